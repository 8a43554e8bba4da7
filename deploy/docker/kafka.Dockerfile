# corridor/kafka: single-node Apache Kafka (KRaft) from the jars deploy/local/kafka pins, run by
# that same script in the foreground. It listens on 127.0.0.1:$KAFKA_PORT: run it with
# --network host (the engine has no bridge), on a port other than a host broker's.
FROM corridor/debian:bookworm
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
# The JRE's postinst wants man directories that minbase leaves out.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/*
ARG KAFKA_VERSION=4.4.0
COPY jars /opt/kafka/jars
COPY kafka /opt/kafka/bin/kafka
ENV KAFKA_VERSION=$KAFKA_VERSION KAFKA_CACHE_DIR=/opt/kafka/jars KAFKA_HOME_DIR=/var/lib/kafka \
    KAFKA_PORT=29092 KAFKA_LOG_CONSOLE=1 KAFKA_HEAP_OPTS="-Xms256m -Xmx768m"
HEALTHCHECK --interval=2s --timeout=2s --retries=60 CMD ["/opt/kafka/bin/kafka", "status"]
ENTRYPOINT ["/opt/kafka/bin/kafka", "foreground"]
