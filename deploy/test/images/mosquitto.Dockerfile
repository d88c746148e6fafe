# Stand-in for eclipse-mosquitto in the compose test: Debian's mosquitto with the same config and
# data paths, and mosquitto_sub for the compose healthcheck.
FROM localhost/chirp-test/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data \
 && chown -R mosquitto /mosquitto
USER mosquitto
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
