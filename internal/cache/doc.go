// Package cache is rampart's edge cache: an RFC 9111 shared HTTP cache
// that runs as the edge's cache phase (edge.PhaseCache) of a zone.
//
// A Store holds the responses of every zone of a node: in memory under a
// byte budget with W-TinyLFU admission and eviction (otter), and, when
// configured, in a disk tier with its own budget that survives restarts.
// Bodies larger than the in-memory threshold (1 MiB by default) are
// streamed to the disk tier, never held whole in memory, or not stored
// without one. Purges (by URL, path prefix, Cache-Tag or everything) are
// effective at once on the node and reach the other nodes through Redis
// pub/sub.
//
// A Zone answers a zone's GET and HEAD requests: fresh entries directly
// (HIT), stale ones within stale-while-revalidate with one background
// refresh (STALE), others after revalidating with the stored validators
// (REVALIDATED) or fetching again (EXPIRED, MISS). Concurrent misses for
// one key are coalesced into one origin request. When the origin fails
// (5xx, a broken response), a stale entry answers within stale-if-error,
// or always with the zone's always-online rule. Conditional requests and
// single byte ranges are answered from stored whole bodies, and
// compressible bodies are served in the client's preferred coding
// (internal/compress), compressed once and stored next to the original.
// An entry's stored header fields are formatted once, when it is stored:
// a whole 200 goes out through the server's preformatted-header fast path
// (edge.RawHeaderAdder, internal/h1) without copying the header map, with
// the head the map path would write.
//
// Security: responses are stored only as RFC 9111 section 3 allows a
// shared cache (no private, no-store, Vary: *, or Authorization without
// public/s-maxage/must-revalidate), responses with Set-Cookie only when
// the zone allows it and without the cookie, and the request headers named
// by Vary are part of the key. Headers that are not named by Vary but
// change the origin's answer (unkeyed inputs such as X-Forwarded-Host)
// would poison the cache; origins behind a cache must vary on what they
// read.
package cache
