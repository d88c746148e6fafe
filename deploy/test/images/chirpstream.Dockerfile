# Stand-in for the image deploy/Dockerfile builds, in the compose test: the same runtime (slim
# Debian, libmosquitto1, libpq5, tzdata, uid 10001, the generated sample) with the executables
# built on the host (swift build -c release --static-swift-stdlib), since no Swift image can be
# pulled here; and librdkafka 2.16 instead of Debian's 2.0.2, which cannot talk to Tansu.
FROM localhost/chirp-test/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmosquitto1 libpq5 tzdata ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin chirp
# The wheel's library has its own SONAME (librdkafka-<hash>.so.1), so the loader cache does not
# list it as librdkafka.so.1: it is found through LD_LIBRARY_PATH, as natively.
COPY librdkafka.so.1 /usr/local/lib/librdkafka.so.1
COPY bin/ /usr/local/bin/
COPY sample.jsonl /usr/share/chirpstream/sample.jsonl
ENV LD_LIBRARY_PATH=/usr/local/lib \
    HTTP_HOST=0.0.0.0 \
    TWEETS_FILE=/usr/share/chirpstream/sample.jsonl
USER 10001
CMD ["chirp-loader", "--help"]
