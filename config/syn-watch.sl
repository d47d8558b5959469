# Connection attempts: TCP SYNs without ACK (IPv4 and IPv6), the first 100 kept.
rx | bpf "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0" | head 100 | pcap "syn.pcap"
rx | bpf "ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02" | pcap "syn6.pcap"
