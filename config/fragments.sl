# IP fragments joined before anything reads ports or streams: the TCP streams
# of every connection, whatever pieces its segments travelled in, and the
# DNS answers that did not fit one frame, whole.
#
#   sl-replay -c config/fragments.sl -o out pcap-samples/fragments.pcap
whole = rx | defrag
whole | bpf "tcp" | reassemble | streams "flows"
whole | bpf "udp port 53" | pcap "dns.pcap"
