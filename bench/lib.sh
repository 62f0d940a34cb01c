# Helpers shared by the bench drivers (sourced, not run).

# A TCP port free on 127.0.0.1 right now (a random high port if python3 cannot tell).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}
