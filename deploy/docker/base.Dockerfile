# corridor/base: Debian bookworm (imported from debootstrap, no registry) with the distro's
# Python 3.11 and the router's dependencies in /opt/venv. Built by deploy/docker/images.
FROM corridor/debian:bookworm
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv
COPY host-ca.crt /tmp/host-ca.crt
COPY requirements.txt /tmp/requirements.txt
# setuptools and wheel too: the router image installs the project without build isolation, so
# building it needs no network.
RUN pip install --no-cache-dir -q --cert /tmp/host-ca.crt 'setuptools>=77' wheel -r /tmp/requirements.txt \
 && rm /tmp/host-ca.crt
RUN useradd --create-home --uid 10001 router
