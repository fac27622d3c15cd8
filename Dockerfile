# vane on debian:12-slim: build in one stage, run as a non-root user in another.
FROM debian:12-slim AS build
WORKDIR /src
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev \
      libssl-dev libyaml-cpp-dev libyaml-dev libre2-dev prometheus-cpp-dev libnghttp2-dev \
      libgoogle-perftools-dev \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVANE_BUILD_TESTS=OFF \
    && cmake --build build -j2 --target vane

FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates libboost-json1.81.0 libboost-url1.81.0 libssl3 libyaml-cpp0.7 libyaml-0-2 \
      libprometheus-cpp-core1.0 libre2-9 libnghttp2-14 libtcmalloc-minimal4 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/vane --create-home vane
COPY --from=build /src/build/vane /usr/local/bin/vane
COPY deploy/vane.yaml /etc/vane/vane.yaml
USER 10001:10001
WORKDIR /var/lib/vane
EXPOSE 8080 9901
ENTRYPOINT ["/usr/local/bin/vane"]
CMD ["run", "-c", "/etc/vane/vane.yaml"]
