/* The HELIX-RC ring cache: one node per core on a unidirectional ring (article sections 3 and 5).
 *
 * Timing only, by reservation: the memory holds the values, the ring says when a value or a
 * signal is available at each node. The scheduler calls these functions in simulated-time order
 * (each call carries the cycle t at which the calling core acts; node arguments are 0 to
 * nodes - 1, unchecked: the engine owns them) and gets back cycles:
 *
 *   ring_store   a store inside a sequential segment: written to the local node, then forwarded
 *                proactively one hop per cycle to every other node; returns when the core may go on
 *   ring_load    a load inside a segment: the cycle the value is ready at that node, or RING_MISS
 *   ring_fill    after a RING_MISS: the owner node fetches the word from its L1 (the caller gives
 *                fetch_latency, from its own L1 model) and forwards it to the requester
 *   ring_signal  signal(k): the arrival cycle at every node; a signal never overtakes the data
 *                its sender stored before it
 *   ring_flush   at the end of the parallel loop: owners write dirty words back to L1
 *
 * Links are modelled by a calendar per link: for each of the next calendar_cycles cycles, how
 * many data words and signals are already booked on it. A message takes, at each hop, the first
 * cycle with room at or after its arrival; since a message books its whole trip when it is sent,
 * a later injection finds the slots of traffic already on the ring taken (ring traffic first)
 * and waits; the converse case, traffic sent after an injection that is still queued, finds the
 * injection's slot taken too (bookings are first come, first served). Data words stay in
 * arrival order at every node (every cycle a word skipped was full, so a later arrival cannot
 * get ahead of it), and a signal never leaves a node before the data words waiting there when
 * it arrives: it reaches every node after all data that had reached its sender.
 * The miss/eviction traffic uses the ring's separate low-traffic links: latency per hop, no
 * bandwidth limit.
 */
#ifndef CSIM_RING_H
#define CSIM_RING_H

#include <stddef.h>
#include <stdint.h>

/* ring_load's answer when the node has never received the word (or evicted it). */
#define RING_MISS UINT64_MAX
/* Bounds checked by ring_init. */
#define RING_MAX_NODES 64
#define RING_MAX_BANDWIDTH 255

typedef struct ring_params {
    int64_t nodes;             /* ring nodes, one per core: 1..RING_MAX_NODES */
    int64_t size_bytes;        /* cache array per node */
    int64_t ways;              /* associativity of the array */
    int64_t word_bytes;        /* line size: one machine word (no false sharing) */
    int64_t hit_latency;       /* core load from its node */
    int64_t inject_latency;    /* core to its node: store or signal reaches the node */
    int64_t hop_latency;       /* node to next node */
    int64_t data_bandwidth;    /* data words per link per cycle */
    int64_t signal_bandwidth;  /* signals per link per cycle */
    int64_t owner_line_bytes;  /* all words of such a line have the same owner node */
    int64_t inject_queue;      /* stores a node holds before they leave on its link */
    int64_t signal_buffer;     /* signals of one sender in transit (not yet at every node) */
    int64_t writeback_cycles;  /* an owner's L1 port is busy this long per written-back word */
    int64_t calendar_cycles;   /* link calendar window, a power of two (>= 64) */
} ring_params;

typedef struct ring_stats {
    uint64_t stores;           /* ring_store calls */
    uint64_t data_hops;        /* link traversals of stored words */
    uint64_t signals;          /* ring_signal calls */
    uint64_t signal_hops;      /* link traversals of signals */
    uint64_t miss_messages;    /* requests and replies of misses, evicted words sent to owners */
    uint64_t link_stalls;      /* cycles messages waited at a node to leave on its link (busy,
                                  or behind the sender's earlier words) */
    uint64_t core_stalls;      /* cycles cores waited on a full inject queue or signal buffer */
    uint64_t peak_inject_queue; /* most stores held by one node's inject queue */
    uint64_t peak_signals;     /* most signals of one sender in transit */
    uint64_t hits;             /* loads that found the word already there */
    uint64_t hits_in_flight;   /* loads that found the word on its way (ready on arrival) */
    uint64_t misses;           /* loads that returned RING_MISS */
    uint64_t evictions;        /* words displaced by a fill or an arriving store */
    uint64_t writebacks;       /* dirty words written to L1 by their owner (evictions, flushes) */
    uint64_t flushes;          /* ring_flush calls */
} ring_stats;

/* One word held by a node (its tag, addr / word_bytes, is in ring.tags). */
typedef struct ring_line {
    uint64_t ready;            /* cycle the value is (or will be) at this node */
    uint64_t use;              /* ring.uses when last stored, filled or loaded; 0 when empty */
    uint64_t dirty;            /* 1: stored in the ring since its owner last wrote it to L1 */
} ring_line;

/* Link bookings for one cycle of one link. */
typedef struct ring_slot {
    uint64_t cycle;            /* the cycle these fields are for; another cycle: free */
    uint64_t queued_until;     /* data waiting at the node in this cycle leaves by then */
    uint8_t data;
    uint8_t signals;
} ring_slot;

/* A dirty word an owner wrote to its L1 at cycle t: a store of that core, as the coherent
   hierarchy sees it (the caller applies it: ring_take_writebacks). */
typedef struct ring_writeback {
    uint64_t addr;
    uint64_t t;
} ring_writeback;

typedef struct ring {
    ring_params p;
    int64_t nsets;             /* sets per node array */
    /* A set's ways for all nodes side by side, [set][node][way], so that a store, which visits
       every node, stays in one run of memory. A set fills its ways in order and empties only
       all at once (ring_flush); LRU order by use stamps, not by moving lines. */
    uint64_t *tags;            /* nsets * nodes * ways words; only ways below fill are valid */
    ring_line *lines;          /* the same shape: the rest of each line */
    uint16_t *fill;            /* nsets * nodes: the ways in use in each node's set */
    uint64_t *seen;            /* nsets: bit (word >> set_shift) & 63 of each word put in the set
                                  since the flush (a clear bit: the word is at no node) */
    int64_t set_shift;         /* log2(nsets) */
    int64_t owner_shift;       /* log2(owner_line_bytes / word_bytes) */
    uint64_t nodes_mask;       /* nodes - 1 when nodes is a power of two, else 0 */
    uint64_t uses;             /* the last use stamp given (stamps only grow) */
    ring_slot *links;          /* nodes * calendar_cycles: link i goes from node i to i+1 */
    uint64_t *inject_departs;  /* nodes * inject_queue: departure cycles, a circular FIFO */
    int64_t *inject_head;      /* per node: next FIFO entry to reuse (the oldest) */
    uint64_t *signal_done;     /* nodes * signal_buffer: when each signal reached every node */
    int64_t *signal_head;
    uint64_t *port_free;       /* per owner node: its L1 port is free from this cycle */
    uint64_t *scratch;         /* nsets * ways cycles: ring_flush sorts one node's words here */
    int64_t *order;            /* ways: ring_flush puts one set's words in MRU order here */
    ring_writeback *written;   /* the write-backs to L1 since ring_take_writebacks (at most
                                  every line plus one per node: taken after each call) */
    int64_t nwritten;
    ring_stats stats;
} ring;

/* The HELIX-RC defaults for a ring of nodes nodes (1 KB 8-way one-word lines, 1-cycle hop,
   2-cycle injection, one word and five signals per link per cycle). */
void ring_default_params(ring_params *p, int64_t nodes);
/* Check p and allocate an empty ring. Returns CSIM_OK, CSIM_BAD_CONFIG (msg names the field)
   or CSIM_NO_MEMORY. On failure r owns nothing. */
int ring_init(ring *r, const ring_params *p, char *msg, size_t msg_size);
void ring_free(ring *r);

/* The node that alone reads and writes addr through L1: (addr / owner_line_bytes) mod nodes. */
int64_t ring_owner(const ring *r, uint64_t addr);
/* Node stores the word at addr at cycle t; returns the cycle the core may continue (t, or later
   when the inject queue is full). The word is at node+d at t' + inject + d * hop plus queuing. */
uint64_t ring_store(ring *r, int64_t node, uint64_t addr, uint64_t t);
/* Node loads the word at addr at cycle t: the cycle the value is ready, or RING_MISS. */
uint64_t ring_load(ring *r, int64_t node, uint64_t addr, uint64_t t);
/* After a RING_MISS at cycle t: the request goes to the owner, the owner reads L1
   (fetch_latency cycles) and sends the word to node; returns the cycle it is ready there. */
uint64_t ring_fill(ring *r, int64_t node, uint64_t addr, uint64_t t, uint64_t fetch_latency);
/* Node signals at cycle t; arrival[n] receives the cycle the signal is at node n (all nodes).
   Returns the cycle the core may continue (t, or later when its signal buffer is full). */
uint64_t ring_signal(ring *r, int64_t node, uint64_t t, uint64_t *arrival);
/* The loop ended at cycle t: every owner writes its dirty words back to L1; returns the cycle
   the last write is done (at least t). Empties every node's array. */
uint64_t ring_flush(ring *r, uint64_t t);
/* The write-backs to L1 that ring_store, ring_fill and ring_flush made since the last call
   (*n of them; the array stays valid until the next ring call), and forget them. */
const ring_writeback *ring_take_writebacks(ring *r, int64_t *n);

#endif
