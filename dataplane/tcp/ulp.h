// An upper layer protocol between a connection's byte stream and its
// application, as Linux's tcp_ulp is for kTLS: once installed on a
// connection, the application's calls (read, peek, write, shutdown, ...)
// and the stack's events (readable, writable, closed) go through it, so an
// application written for plain TCP (the HTTP proxy, the TCP proxy) runs
// unchanged over TLS. The ULP itself uses the stack's raw_* calls.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace lg::tcp {

struct Conn;
enum class IoStatus : int8_t;

struct UlpOps {
  // The application's byte stream (plaintext, for TLS).
  uint32_t (*readable)(const Conn* c);
  uint32_t (*peek)(const Conn* c, uint32_t from, void* buf, uint32_t len);
  rte_mbuf* (*read)(Conn* c, uint32_t max);
  bool (*eof)(const Conn* c);
  IoStatus (*write)(Conn* c, rte_mbuf* chain);
  uint32_t (*write_space)(const Conn* c);
  void (*want_writable)(Conn* c);
  void (*shutdown)(Conn* c);
  void (*close)(Conn* c);
  void (*abort)(Conn* c);
  // Bytes received but not yet read by the application, in the ULP's own
  // queues: a connection whose peer finished lingers until they are read.
  uint32_t (*unread)(const Conn* c);
  // The stack's events: the ULP tells the application when it has
  // something for it, and when its stream is connected (after a TLS
  // client's handshake). (on_closed goes straight to the application.)
  void (*on_connected)(Conn* c);
  void (*on_readable)(Conn* c);
  void (*on_writable)(Conn* c);
  // The connection's slot is being freed: let go of its state. No callback
  // to the application from here.
  void (*release)(Conn* c);
};

// Embedded at the start of a ULP's per-connection state; Conn::ulp points at it.
struct Ulp {
  const UlpOps* ops = nullptr;
};

}  // namespace lg::tcp
