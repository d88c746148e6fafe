# Stand-in for eclipse-mosquitto in the compose test: Debian's mosquitto with the same config and
# data paths, mosquitto_pub for the compose healthcheck, and the official image's uid (1883), to
# which tls-setup gives the broker's key.
FROM localhost/chirp-test/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && usermod -u 1883 mosquitto \
 && mkdir -p /mosquitto/config /mosquitto/data \
 && chown -R mosquitto /mosquitto /var/lib/mosquitto
USER mosquitto
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
