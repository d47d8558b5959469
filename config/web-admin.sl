# Web connections that ask for an admin page, found in each TCP stream
# however its segments split or reorder the request: every packet of such a
# connection from the request on, and a line per request in
# admin-requests.tsv (the stream, as tcpflow names it, and the offset just
# past the request line's start). The first 4 KB of each stream direction
# go to heads/, a file per direction.
tcp = rx | bpf "tcp port 80" | reassemble depth=4096
tcp | stream-match "GET /admin" keep=flow report="admin-requests.tsv" | pcap "admin.pcap"
tcp | streams "heads"
