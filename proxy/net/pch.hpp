// Precompiled for every target that links vane::net: the Asio headers every proxy file includes.
#pragma once
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
