// The one table of every per-port counter the dataplane keeps. Each drop
// reason and each event has a name (used verbatim in /stats, Prometheus and
// telemetry) and a help string. Add a row here; nothing else needs editing.
#pragma once

// X(name, help)
#define LG_DROP_REASONS(X)                                                                  \
  X(eth_too_short, "frame shorter than an Ethernet header")                               \
  X(eth_not_for_us, "destination MAC is neither ours, broadcast, nor a multicast we use") \
  X(eth_unknown_ethertype, "ethertype is not ARP, IPv4 or IPv6")                          \
  X(eth_headers_not_contiguous, "protocol headers span mbuf segments")                    \
  X(vlan_mismatch, "802.1Q tag absent, unexpected, or not the port's VLAN")               \
  X(arp_malformed, "ARP packet with bad hardware/protocol type, lengths or opcode")       \
  X(arp_not_for_us, "ARP request for an address that is not ours")                        \
  X(ipv4_too_short, "IPv4 packet shorter than its header")                                \
  X(ipv4_bad_version, "IP version field is not 4")                                        \
  X(ipv4_bad_header_length, "IPv4 IHL below 5 or beyond the packet")                      \
  X(ipv4_bad_total_length, "IPv4 total length disagrees with the frame")                  \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                      \
  X(ipv4_fragment, "IPv4 fragments are not reassembled")                                  \
  X(ipv4_bad_source, "IPv4 source is ours, multicast, broadcast or zero")                 \
  X(ipv4_not_for_us, "IPv4 destination is not one of our addresses")                      \
  X(ipv4_proto_unsupported, "IPv4 protocol with no handler")                              \
  X(icmp_too_short, "ICMP message shorter than its header")                               \
  X(icmp_bad_checksum, "ICMP checksum wrong")                                             \
  X(icmp_type_unsupported, "ICMP type or code with no handler")                           \
  X(icmp_echo_broadcast, "echo request to a broadcast address (ignored, as Linux does)")  \
  X(ipv6_too_short, "IPv6 packet shorter than its header")                                \
  X(ipv6_bad_version, "IP version field is not 6")                                        \
  X(ipv6_bad_payload_length, "IPv6 payload length disagrees with the frame")              \
  X(ipv6_fragment, "IPv6 fragments are not reassembled")                                  \
  X(ipv6_bad_extension_header, "IPv6 extension header truncated, misplaced or unsupported") \
  X(ipv6_bad_source, "IPv6 source is multicast or ours")                                  \
  X(ipv6_not_for_us, "IPv6 destination is not one of our addresses or groups")            \
  X(ipv6_proto_unsupported, "IPv6 next header with no handler")                           \
  X(icmp6_too_short, "ICMPv6 message shorter than its header")                            \
  X(icmp6_bad_checksum, "ICMPv6 checksum wrong")                                          \
  X(icmp6_type_unsupported, "ICMPv6 type with no handler")                                \
  X(icmp6_echo_multicast, "echo request to a multicast group (not answered)")             \
  X(ndp_invalid, "neighbor discovery message failing RFC 4861 validation")                \
  X(ndp_target_not_ours, "neighbor solicitation for an address that is not ours")         \
  X(no_route, "no on-link subnet or gateway reaches the destination")                     \
  X(neigh_queue_full, "packet waiting for address resolution beyond the per-neighbor bound") \
  X(neigh_unresolved, "address resolution gave no answer; waiting packets dropped")       \
  X(neigh_table_full, "neighbor table full; packet dropped")                              \
  X(mbuf_alloc_failed, "no mbuf to build a reply or request")                             \
  X(tx_queue_full, "port transmit queue full")                                            \
  X(tcp_bad_header, "TCP header short or data offset out of range")                        \
  X(tcp_bad_checksum, "TCP checksum wrong")                                               \
  X(tcp_bad_options, "TCP option list malformed")                                         \
  X(tcp_no_listener, "segment for no connection or listener (answered with RST)")         \
  X(tcp_out_of_window, "segment outside the receive window (answered with an ACK)")       \
  X(tcp_paws, "timestamp older than the last one seen (RFC 7323 PAWS)")                   \
  X(tcp_rst_in_window, "RST in the window but not at rcv_nxt (RFC 5961 challenge ACK)")    \
  X(tcp_rst_out_of_window, "RST outside the window")                                      \
  X(tcp_syn_in_window, "SYN on a synchronized connection (RFC 5961 challenge ACK)")       \
  X(tcp_ack_invalid, "ACK for data never sent or far in the past (RFC 5961 §5)")           \
  X(tcp_table_full, "no free connection slot")                                            \
  X(tcp_listen_overflow, "SYN dropped: listener backlog full")                            \
  X(tcp_syncookie_invalid, "ACK with a SYN cookie that does not validate")                \
  X(tcp_ooo_full, "out-of-order segment dropped: out-of-order slots full")               \
  X(tcp_time_wait_overflow, "connection closed without TIME_WAIT: TIME_WAIT table full")

#define LG_EVENTS(X)                                                                        \
  X(rx_frames, "frames received")                                                          \
  X(rx_bytes, "bytes received (frame lengths)")                                            \
  X(tx_frames, "frames transmitted")                                                       \
  X(tx_bytes, "bytes transmitted")                                                         \
  X(arp_requests_received, "ARP requests for our address")                                 \
  X(arp_replies_sent, "ARP replies sent")                                                  \
  X(arp_requests_sent, "ARP requests sent to resolve or confirm a neighbor")               \
  X(arp_replies_received, "ARP replies received")                                          \
  X(icmp_echo_replies_sent, "ICMP echo replies sent (or waiting for address resolution)")                                      \
  X(icmp6_echo_replies_sent, "ICMPv6 echo replies sent (or waiting for address resolution)")                                   \
  X(nd_solicitations_received, "neighbor solicitations for our addresses")                 \
  X(nd_advertisements_sent, "neighbor advertisements sent")                                \
  X(nd_solicitations_sent, "neighbor solicitations sent to resolve or confirm a neighbor") \
  X(nd_advertisements_received, "neighbor advertisements received")                        \
  X(address_announcements_sent, "ARP announcements and unsolicited neighbor advertisements sent as the link came up") \
  X(neigh_learned, "neighbor entries created or changed from received packets")           \
  X(neigh_resolved, "address resolutions completed")                                       \
  X(neigh_queued_sent, "packets sent after waiting for address resolution")               \
  X(neigh_expired, "neighbor entries removed after aging")                               \
  X(tcp_segments_received, "TCP segments received")                                        \
  X(tcp_segments_sent, "TCP segments sent")                                                \
  X(tcp_retransmits, "TCP segments retransmitted")                                         \
  X(tcp_fast_retransmits, "loss recoveries entered on duplicate ACKs or SACK")             \
  X(tcp_rto_timeouts, "retransmission timeouts")                                           \
  X(tcp_connect_attempts, "active opens started")                                          \
  X(tcp_connections_accepted, "passive opens established")                                 \
  X(tcp_connections_connected, "active opens established")                                 \
  X(tcp_connections_closed, "connections removed from the table")                          \
  X(tcp_connections_timed_out, "connections ended by retransmission, connect, user or keepalive timeout") \
  X(tcp_resets_sent, "RST segments sent")                                                  \
  X(tcp_resets_received, "connections reset by the peer")                                  \
  X(tcp_challenge_acks, "challenge ACKs sent (RFC 5961)")                                  \
  X(tcp_syncookies_sent, "SYN-ACKs sent with a SYN cookie")                                \
  X(tcp_syncookies_accepted, "connections established from a valid SYN cookie")          \
  X(tcp_ooo_segments, "segments queued out of order")                                     \
  X(tcp_window_probes, "zero-window probes sent")                                         \
  X(tcp_keepalive_probes, "keepalive probes sent")                                        \
  X(impair_dropped, "frames the test impairment stage dropped (both directions)")        \
  X(impair_duplicated, "frames the test impairment stage duplicated")                     \
  X(impair_reordered, "frames the test impairment stage sent out of order")               \
  X(impair_corrupted, "frames the test impairment stage corrupted")                       \
  X(impair_delayed, "frames the test impairment stage delayed")                           \
  X(app_bytes_received, "bytes the built-in test applications read")                     \
  X(app_bytes_sent, "bytes the built-in test applications wrote")                         \
  X(app_streams_completed, "test-application streams that ended cleanly")                 \
  X(app_streams_failed, "test-application streams that ended by reset or timeout")

// Gauges: levels, summed over lcores (each lcore adds and subtracts its own).
#define LG_GAUGES(X)                                                  \
  X(tcp_connections, "TCP connections in the table, any state")     \
  X(tcp_established, "TCP connections in ESTABLISHED")              \
  X(tcp_half_open, "passive TCP connections in SYN-RECEIVED")       \
  X(tcp_time_wait, "TCP connections in TIME-WAIT")
