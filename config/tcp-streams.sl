# Each TCP connection's bytes in order, one file per direction, named as
# tcpflow names them (streams/010.000.000.001.01234-010.000.000.002.00080),
# and the web requests' packets beside them.
tcp = rx | reassemble flows=65536 idle=120
tcp | streams "streams"
rx | bpf "tcp dst port 80" | pcap "web-requests.pcap"
