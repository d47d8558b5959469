# Payload filters. match and regex read payload bytes, so under the hybrid
# shadow policy (the default) exactly those packets' payloads are pulled into
# local memory; every other filter here reads headers in place.
web = rx | bpf "tcp port 80" | match "GET " "POST " "HTTP/1.1 200"
web |1 pcap "get.pcap"
web |2 pcap "post.pcap"
web |3 count name=ok
rx | regex "user=[a-z]+" | pcap "logins.pcap"
