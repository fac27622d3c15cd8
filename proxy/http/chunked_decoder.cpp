// Chunked body decoder: a byte-at-a-time state machine for the framing lines, so input may be
// split anywhere and nothing is buffered; data is handed out as views in the largest pieces.
//
//   Size --hex--> Size --(ws ; CR)--> Ext --CR--> SizeLf --LF--> Data --n bytes--> DataCr
//    ^                                              |                                |CR
//    |                                              | size 0                       DataLf
//    +----------------------------------------------|--------------------------------+LF
//                                                   v
//                          Trailer (field lines, then CRLF) --> Done
#include "proxy/http/chunked_decoder.hpp"

#include "proxy/http/grammar.hpp"
#include "proxy/http/parser.hpp"

namespace vane::proxy::http {

namespace {

constexpr uint64_t kMaxChunkSize = (uint64_t{1} << 63) - 1;

}  // namespace

ChunkedDecoder::ChunkedDecoder(size_t max_line_bytes, size_t max_trailer_bytes)
    : max_line_(max_line_bytes), max_trailer_(max_trailer_bytes) {}

ChunkedDecoder::Step ChunkedDecoder::next(std::string_view in) {
  if (state_ == State::Error) return {Status::Error, 0, {}};
  if (state_ == State::Done) return {Status::Done, 0, {}};
  size_t i = 0;
  while (i < in.size()) {
    if (state_ == State::Data) {
      const size_t avail = in.size() - i;
      const size_t n = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
      remaining_ -= n;
      body_bytes_ += n;
      if (remaining_ == 0) state_ = State::DataCr;
      return {Status::Data, i + n, in.substr(i, n)};
    }
    if (!step_byte(in[i++])) {
      state_ = State::Error;
      return {Status::Error, i, {}};
    }
    if (state_ == State::Done) return {Status::Done, i, {}};
  }
  return {Status::NeedMore, i, {}};
}

bool ChunkedDecoder::step_byte(char c) {
  switch (state_) {
    case State::Size:
      if (grammar::is(grammar::kHex, c)) {
        const unsigned digit = grammar::hex_value(c);
        if (remaining_ > (kMaxChunkSize - digit) / 16) return false;  // overflow
        remaining_ = remaining_ * 16 + digit;
        size_digits_ = true;
        return ++line_len_ <= max_line_;
      }
      if (!size_digits_) return false;
      state_ = State::Ext;
      ext_ = ExtState::Start;
      return ext_byte(c);
    case State::Ext:
      return ext_byte(c);
    case State::SizeLf:
      if (c != '\n') return false;
      line_len_ = 0;
      if (remaining_ == 0) {
        state_ = State::Trailer;
        trailer_ = TrailerState::LineStart;
      } else {
        state_ = State::Data;
      }
      return true;
    case State::DataCr:
      state_ = State::DataLf;
      return c == '\r';
    case State::DataLf:
      state_ = State::Size;
      size_digits_ = false;
      return c == '\n';
    case State::Trailer:
      return trailer_byte(c);
    default:
      return false;
  }
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
bool ChunkedDecoder::ext_byte(char c) {
  using grammar::is;
  if (c == '\r') {
    const bool can_end = ext_ == ExtState::Start || ext_ == ExtState::Name ||
                         ext_ == ExtState::Token;
    if (!can_end) return false;
    state_ = State::SizeLf;
    return true;
  }
  if (++line_len_ > max_line_) return false;
  const bool ws = grammar::is_ows(c);
  const bool tchar = is(grammar::kTchar, c);
  switch (ext_) {
    case ExtState::Start:
    case ExtState::PreSemi:
      if (ws) ext_ = ExtState::PreSemi;
      else if (c == ';') ext_ = ExtState::NameBws;
      else return false;
      return true;
    case ExtState::NameBws:
      if (tchar) ext_ = ExtState::Name;
      return ws || tchar;
    case ExtState::Name:
    case ExtState::PostName:
      if (ws) ext_ = ExtState::PostName;
      else if (c == '=') ext_ = ExtState::ValueBws;
      else if (c == ';') ext_ = ExtState::NameBws;
      else if (!tchar || ext_ == ExtState::PostName) return false;
      return true;
    case ExtState::ValueBws:
      if (tchar) ext_ = ExtState::Token;
      else if (c == '"') ext_ = ExtState::Quoted;
      else if (!ws) return false;
      return true;
    case ExtState::Token:
      if (ws) ext_ = ExtState::PreSemi;
      else if (c == ';') ext_ = ExtState::NameBws;
      else if (!tchar) return false;
      return true;
    case ExtState::Quoted:
      if (c == '"') ext_ = ExtState::Start;
      else if (c == '\\') ext_ = ExtState::Escape;
      else if (!is(grammar::kQdtext, c)) return false;
      return true;
    case ExtState::Escape:
      ext_ = ExtState::Quoted;
      return is(grammar::kFieldChar, c);
  }
  return false;
}

// trailer-section = *( field-line CRLF ) CRLF; the lines are checked and kept, the final CRLF
// is not.
bool ChunkedDecoder::trailer_byte(char c) {
  if (++trailer_len_ > max_trailer_) return false;
  if (c != '\r' && c != '\n' && ++line_len_ > max_line_) return false;
  if (trailer_ != TrailerState::EndLf && !(trailer_ == TrailerState::LineStart && c == '\r')) {
    trailers_.push_back(c);  // checked below: an Error discards the decoder anyway
  }
  switch (trailer_) {
    case TrailerState::LineStart:
      if (c == '\r') trailer_ = TrailerState::EndLf;
      else if (grammar::is(grammar::kTchar, c)) trailer_ = TrailerState::Name;
      else return false;  // obs-fold, empty name, bare LF
      return true;
    case TrailerState::Name:
      if (c == ':') trailer_ = TrailerState::Value;
      else if (!grammar::is(grammar::kTchar, c)) return false;
      return true;
    case TrailerState::Value:
      if (c == '\r') trailer_ = TrailerState::LineLf;
      else if (!grammar::is(grammar::kFieldChar, c)) return false;
      return true;
    case TrailerState::LineLf:
      trailer_ = TrailerState::LineStart;
      line_len_ = 0;
      return c == '\n';
    case TrailerState::EndLf:
      state_ = State::Done;
      return c == '\n';
  }
  return false;
}

bool trailer_allowed(std::string_view name) {
  static constexpr std::string_view kRefused[] = {
      "content-length", "transfer-encoding", "host", "connection", "keep-alive", "proxy-connection",
      "te", "trailer", "upgrade", "content-type", "content-encoding", "content-range",
      "authorization", "cookie", "set-cookie", "expect", "max-forwards", "cache-control"};
  if (name.empty() || name.front() == ':') return false;
  for (const std::string_view refused : kRefused) {
    if (refused.size() == name.size() && iequals(refused, name)) return false;
  }
  return true;
}

std::string last_chunk(std::string_view section) {
  std::string out("0\r\n");
  for_each_trailer(section, [&](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  });
  return out.append("\r\n");
}

std::string_view chunk_size_line(uint64_t size, char (&buf)[24]) {
  constexpr char kDigits[] = "0123456789abcdef";
  char tmp[16];
  size_t n = 0;
  do {
    tmp[n++] = kDigits[size & 0xF];
    size >>= 4;
  } while (size != 0);
  for (size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  buf[n] = '\r';
  buf[n + 1] = '\n';
  return {buf, n + 2};
}

}  // namespace vane::proxy::http
