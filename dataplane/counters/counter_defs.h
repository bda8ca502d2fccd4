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
  X(tx_queue_full, "port transmit queue full")

#define LG_EVENTS(X)                                                                        \
  X(rx_frames, "frames received")                                                          \
  X(rx_bytes, "bytes received (frame lengths)")                                            \
  X(tx_frames, "frames transmitted")                                                       \
  X(tx_bytes, "bytes transmitted")                                                         \
  X(arp_requests_received, "ARP requests for our address")                                 \
  X(arp_replies_sent, "ARP replies sent")                                                  \
  X(arp_requests_sent, "ARP requests sent to resolve or confirm a neighbor")               \
  X(arp_replies_received, "ARP replies received")                                          \
  X(icmp_echo_replies_sent, "ICMP echo replies sent")                                      \
  X(icmp6_echo_replies_sent, "ICMPv6 echo replies sent")                                   \
  X(nd_solicitations_received, "neighbor solicitations for our addresses")                 \
  X(nd_advertisements_sent, "neighbor advertisements sent")                                \
  X(nd_solicitations_sent, "neighbor solicitations sent to resolve or confirm a neighbor") \
  X(nd_advertisements_received, "neighbor advertisements received")                        \
  X(neigh_learned, "neighbor entries created or changed from received packets")           \
  X(neigh_resolved, "address resolutions completed")                                       \
  X(neigh_queued_sent, "packets sent after waiting for address resolution")               \
  X(neigh_expired, "neighbor entries removed after aging")
