# Split tagged traffic by outer VLAN id: VLAN 100 to its own file, the other
# tags to port 1, untagged frames to port 2.
v = rx | vlan
v |100 pcap "vlan100.pcap"
v |5 count name=vlan5 |     # a line ending in '|' continues
  tx 1
v |200 tx 1
v |else tx 2
