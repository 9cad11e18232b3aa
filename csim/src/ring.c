/* The HELIX-RC ring cache: parameters, node arrays, link calendars, stores, loads, misses,
 * signals and the end-of-loop flush (see ring.h for the model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ring.h"

/* Upper bounds that keep every cycle sum far from overflow and every table small. */
#define RING_MAX_LATENCY 1000000
#define RING_MAX_QUEUE 1024
#define RING_MAX_WAYS 1024
#define RING_MAX_LINES (INT64_C(1) << 20)
#define RING_MAX_WORD 64
#define RING_MIN_CALENDAR 64
#define RING_MAX_CALENDAR (INT64_C(1) << 20)

void ring_default_params(ring_params *p, int64_t nodes)
{
    *p = (ring_params){
        .nodes = nodes, .size_bytes = 1024, .ways = 8, .word_bytes = 8,
        .hit_latency = 1, .inject_latency = 2, .hop_latency = 1,
        .data_bandwidth = 1, .signal_bandwidth = 5, .owner_line_bytes = 64,
        .inject_queue = 8, .signal_buffer = 16, .writeback_cycles = 1, .calendar_cycles = 1024,
    };
}

static int is_pow2(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

/* Writes the first invalid field into msg; returns 1 when p is valid. */
static int params_ok(const ring_params *p, char *msg, size_t msg_size)
{
    /* The bounded integer fields, checked in declaration order. */
    const struct {
        const char *name;
        int64_t value, lo, hi;
    } ranges[] = {
        {"nodes", p->nodes, 1, RING_MAX_NODES},
        {"ways", p->ways, 1, RING_MAX_WAYS},
        {"hit_latency", p->hit_latency, 0, RING_MAX_LATENCY},
        {"inject_latency", p->inject_latency, 0, RING_MAX_LATENCY},
        {"hop_latency", p->hop_latency, 1, RING_MAX_LATENCY},
        {"data_bandwidth", p->data_bandwidth, 1, RING_MAX_BANDWIDTH},
        {"signal_bandwidth", p->signal_bandwidth, 1, RING_MAX_BANDWIDTH},
        {"inject_queue", p->inject_queue, 1, RING_MAX_QUEUE},
        {"signal_buffer", p->signal_buffer, 1, RING_MAX_QUEUE},
        {"writeback_cycles", p->writeback_cycles, 0, RING_MAX_LATENCY},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (ranges[i].value < ranges[i].lo || ranges[i].value > ranges[i].hi) {
            snprintf(msg, msg_size, "ring_params.%s must be from %lld to %lld (got %lld)",
                     ranges[i].name, (long long)ranges[i].lo, (long long)ranges[i].hi,
                     (long long)ranges[i].value);
            return 0;
        }
    if (!is_pow2(p->word_bytes) || p->word_bytes > RING_MAX_WORD) {
        snprintf(msg, msg_size,
                 "ring_params.word_bytes must be a power of two from 1 to %d (got %lld)",
                 RING_MAX_WORD, (long long)p->word_bytes);
        return 0;
    }
    int64_t set_bytes = p->ways * p->word_bytes;
    if (p->size_bytes < set_bytes || p->size_bytes % set_bytes != 0
        || !is_pow2(p->size_bytes / set_bytes) || p->size_bytes / p->word_bytes > RING_MAX_LINES) {
        snprintf(msg, msg_size,
                 "ring_params.size_bytes must be ways * word_bytes times a power of two, at most "
                 "%lld words (got size_bytes=%lld, ways=%lld, word_bytes=%lld)",
                 (long long)RING_MAX_LINES, (long long)p->size_bytes, (long long)p->ways,
                 (long long)p->word_bytes);
        return 0;
    }
    if (!is_pow2(p->owner_line_bytes) || p->owner_line_bytes < p->word_bytes) {
        snprintf(msg, msg_size,
                 "ring_params.owner_line_bytes must be a power of two of at least word_bytes "
                 "(got %lld, word_bytes=%lld)",
                 (long long)p->owner_line_bytes, (long long)p->word_bytes);
        return 0;
    }
    if (!is_pow2(p->calendar_cycles) || p->calendar_cycles < RING_MIN_CALENDAR
        || p->calendar_cycles > RING_MAX_CALENDAR) {
        snprintf(msg, msg_size,
                 "ring_params.calendar_cycles must be a power of two from %d to %lld (got %lld)",
                 RING_MIN_CALENDAR, (long long)RING_MAX_CALENDAR, (long long)p->calendar_cycles);
        return 0;
    }
    return 1;
}

/* Mark every line of every node empty: only ways below fill are ever read. */
static void clear_lines(ring *r)
{
    memset(r->fill, 0, (size_t)(r->nsets * r->p.nodes) * sizeof *r->fill);
    memset(r->seen, 0, (size_t)r->nsets * sizeof *r->seen);
}

int ring_init(ring *r, const ring_params *p, char *msg, size_t msg_size)
{
    *r = (ring){0};
    if (!params_ok(p, msg, msg_size))
        return CSIM_BAD_CONFIG;
    r->p = *p;
    r->nsets = p->size_bytes / (p->ways * p->word_bytes);

    int64_t n = p->nodes;
    int64_t per_node = r->nsets * p->ways;
    r->tags = malloc((size_t)(n * per_node) * sizeof *r->tags);
    r->lines = malloc((size_t)(n * per_node) * sizeof *r->lines);
    r->links = malloc((size_t)(n * p->calendar_cycles) * sizeof *r->links);
    r->inject_departs = calloc((size_t)(n * p->inject_queue), sizeof *r->inject_departs);
    r->inject_head = calloc((size_t)n, sizeof *r->inject_head);
    r->signal_done = calloc((size_t)(n * p->signal_buffer), sizeof *r->signal_done);
    r->signal_head = calloc((size_t)n, sizeof *r->signal_head);
    r->port_free = calloc((size_t)n, sizeof *r->port_free);
    r->scratch = malloc((size_t)per_node * sizeof *r->scratch);
    r->order = malloc((size_t)p->ways * sizeof *r->order);
    r->fill = malloc((size_t)(r->nsets * n) * sizeof *r->fill);
    r->seen = malloc((size_t)r->nsets * sizeof *r->seen);
    while (((int64_t)1 << r->set_shift) < r->nsets)
        r->set_shift++;
    while ((p->word_bytes << r->owner_shift) < p->owner_line_bytes)
        r->owner_shift++;
    r->nodes_mask = is_pow2(n) ? (uint64_t)(n - 1) : 0;
    r->written = malloc((size_t)(n * per_node + n) * sizeof *r->written);
    if (!r->tags || !r->lines || !r->fill || !r->seen || !r->order || !r->links
        || !r->inject_departs || !r->inject_head || !r->signal_done || !r->signal_head
        || !r->port_free || !r->scratch || !r->written) {
        ring_free(r);
        snprintf(msg, msg_size, "out of memory for a ring of %lld nodes", (long long)n);
        return CSIM_NO_MEMORY;
    }
    clear_lines(r);
    /* Slot i starts as cycle i with nothing booked: free for every cycle that maps to it. */
    for (int64_t l = 0; l < n; l++)
        for (int64_t i = 0; i < p->calendar_cycles; i++)
            r->links[l * p->calendar_cycles + i] = (ring_slot){(uint64_t)i, 0, 0, 0};
    return CSIM_OK;
}

void ring_free(ring *r)
{
    free(r->tags);
    free(r->lines);
    free(r->order);
    free(r->fill);
    free(r->seen);
    free(r->links);
    free(r->inject_departs);
    free(r->inject_head);
    free(r->signal_done);
    free(r->signal_head);
    free(r->port_free);
    free(r->scratch);
    free(r->written);
    *r = (ring){0};
}

/* ring_owner of the word's address (inline: the exported function is interposable). Shifts, as
   owner_line_bytes and word_bytes are powers of two, and a mask when nodes is one too. */
static inline int64_t owner_of(const ring *r, uint64_t word)
{
    uint64_t line = word >> r->owner_shift;

    return (int64_t)(r->nodes_mask != 0 || r->p.nodes == 1 ? line & r->nodes_mask
                                                           : line % (uint64_t)r->p.nodes);
}

int64_t ring_owner(const ring *r, uint64_t addr)
{
    return (int64_t)((addr / (uint64_t)r->p.owner_line_bytes) % (uint64_t)r->p.nodes);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Hops from node a forward to node b. */
static int64_t hops(const ring *r, int64_t a, int64_t b)
{
    return b >= a ? b - a : b - a + r->p.nodes;
}

/* Word's set. Its fill count at node m is fill[set * nodes + m]; its first way at node m is
   at (set * nodes + m) * ways in tags and lines. */
static inline int64_t set_of(const ring *r, uint64_t word)
{
    return (int64_t)(word & (uint64_t)(r->nsets - 1));
}

/* Word's bit in its set's seen mask. */
static inline uint64_t seen_bit(const ring *r, uint64_t word)
{
    return (uint64_t)1 << ((word >> r->set_shift) & 63);
}

/* The way of tags (one set, ways long) that holds word, or -1. */
static inline int64_t find_way(const uint64_t *tags, int64_t ways, uint64_t word)
{
    for (int64_t way = 0; way < ways; way++)
        if (tags[way] == word)
            return way;
    return -1;
}

/* find_way over the ways in use, trying way hint first. */
static inline int64_t find_hinted(const uint64_t *tags, int64_t used, uint64_t word, int64_t hint)
{
    return hint < used && tags[hint] == word ? hint : find_way(tags, used, word);
}

/* The line holding word at node, or NULL; touch makes it the MRU line. */
static ring_line *lookup(ring *r, int64_t node, uint64_t word, int touch)
{
    if (!(r->seen[set_of(r, word)] & seen_bit(r, word)))
        return NULL;                        /* at no node */
    int64_t i = set_of(r, word) * r->p.nodes + node;
    int64_t at = i * r->p.ways;
    int64_t way = find_way(r->tags + at, r->fill[i], word);

    if (way < 0)
        return NULL;
    ring_line *l = &r->lines[at + way];
    if (touch)
        l->use = ++r->uses;
    return l;
}

/* A dirty word evicted at node at cycle t travels to its owner, which writes it to L1 when its
   port is free. Every copy of the word holds the same (latest) value, so all become clean.
   hint: the way it had at node (the way to try first at every node). */
static void write_back(ring *r, int64_t node, uint64_t word, uint64_t t, int64_t hint)
{
    int64_t owner = owner_of(r, word);
    int64_t h = hops(r, node, owner);

    if (h > 0)
        r->stats.miss_messages++;
    uint64_t start = max_u64(r->port_free[owner], t + (uint64_t)(h * r->p.hop_latency));
    r->port_free[owner] = start + (uint64_t)r->p.writeback_cycles;
    r->stats.writebacks++;
    r->written[r->nwritten++] = (ring_writeback){word * (uint64_t)r->p.word_bytes, start};
    const int64_t ways = r->p.ways;
    int64_t i = set_of(r, word) * r->p.nodes;
    for (int64_t m = 0; m < r->p.nodes; m++, i++) {
        int64_t way = find_hinted(r->tags + i * ways, r->fill[i], word, hint);
        if (way >= 0)
            r->lines[i * ways + way].dirty = 0;
    }
}

/* Put word in node's set (tags/lines: its first way, ways long; *fill: its ways in use), ready
   at cycle ready, as the MRU line: a copy already there is replaced; otherwise the word takes
   an empty way, or evicts the least recently used line (an MRU-first list's last line: the
   empty lines' place is not observable). dirty: a store's value, not an L1 fill. hint: the way
   to try first (a store finds its word in the same way at many nodes); absent: the word is
   known to be at no node; use: the line's new use stamp. Returns the way. The caller sets the
   word's seen bit. */
static inline int64_t put_at(ring *r, int64_t node, uint64_t *tags, ring_line *lines,
                             uint16_t *fill, int64_t ways, uint64_t word, uint64_t ready,
                             uint64_t dirty, int64_t hint, int absent, uint64_t use)
{
    const int64_t used = *fill;
    int64_t way = absent ? -1 : find_hinted(tags, used, word, hint);

    if (way < 0) {
        if (used < ways) {
            way = used;
            *fill = (uint16_t)(used + 1);
        } else {
            uint64_t oldest = lines[0].use; /* use stamps are distinct */
            way = 0;
            for (int64_t w = 1; w < ways; w++) {
                uint64_t u = lines[w].use;
                if (u < oldest) {
                    oldest = u;
                    way = w;
                }
            }
            r->stats.evictions++;
            if (lines[way].dirty)
                write_back(r, node, tags[way], ready, way);
        }
        tags[way] = word;
    }
    lines[way] = (ring_line){ready, use, dirty};
    return way;
}

static void put(ring *r, int64_t node, uint64_t word, uint64_t ready, int dirty)
{
    int64_t i = set_of(r, word) * r->p.nodes + node;

    put_at(r, node, r->tags + i * r->p.ways, r->lines + i * r->p.ways, &r->fill[i], r->p.ways,
           word, ready, (uint64_t)(dirty != 0), 0, 0, ++r->uses);
    r->seen[set_of(r, word)] |= seen_bit(r, word);
}

/* The calendar entry of cycle c in a link's calendar cal (mask: its length - 1), or NULL when
   the slot holds a later cycle of the window. */
static inline ring_slot *slot_in(ring_slot *cal, uint64_t mask, uint64_t c)
{
    ring_slot *s = cal + (int64_t)(c & mask);

    if (s->cycle == c)
        return s;
    if (s->cycle > c)
        return NULL;
    *s = (ring_slot){c, 0, 0, 0};
    return s;
}

/* Book room for one message on the link of calendar cal (mask: its length - 1) at the first
   cycle >= from; returns that cycle. cap: messages of the kind per cycle, signal: the kind.
   Slots out of the window count as taken (never double-book). The callers pass the ring's
   fields as locals: stores through the uint8_t counters would make the compiler reload them. */
static inline uint64_t book(ring_slot *cal, uint64_t mask, uint64_t from, uint64_t cap,
                            int signal)
{
    for (uint64_t c = from;; c++) {
        ring_slot *s = slot_in(cal, mask, c);
        if (s == NULL)
            continue;
        uint8_t *used = signal ? &s->signals : &s->data;
        if (*used < cap) {
            (*used)++;
            return c;
        }
    }
}

/* A data word waits at the node of calendar cal from cycle ready until it leaves at dep: a
   signal that arrives meanwhile leaves after it. */
static void mark_queued(ring_slot *cal, uint64_t mask, uint64_t ready, uint64_t dep)
{
    for (uint64_t c = ready; c < dep; c++) {
        ring_slot *s = slot_in(cal, mask, c);
        if (s != NULL && s->queued_until < dep)
            s->queued_until = dep;
    }
}

/* FIFO of a node's in-transit resources (inject queue entries, signals): the core may go on at
   t, or when the oldest entry frees its place. Updates the stall count and the peak occupancy
   (the entries still held at that cycle plus the new one). */
static uint64_t admit(ring *r, const uint64_t *fifo, int64_t head, int64_t size, uint64_t t,
                      uint64_t *peak)
{
    uint64_t go = t;
    uint64_t held = 1;

    if (fifo[head] > t) {
        r->stats.core_stalls += fifo[head] - t;
        go = fifo[head];
    }
    /* held <= size (fifo[head] <= go never counts): no need to count once the peak is size. */
    if (*peak >= (uint64_t)size)
        return go;
    for (int64_t i = 0; i < size; i++)
        held += fifo[i] > go;
    if (held > *peak)
        *peak = held;
    return go;
}

uint64_t ring_store(ring *r, int64_t node, uint64_t addr, uint64_t t)
{
    int64_t n = r->p.nodes;
    int64_t q = r->p.inject_queue;
    uint64_t *fifo = r->inject_departs + node * q;
    uint64_t word = addr / (uint64_t)r->p.word_bytes;
    uint64_t go = admit(r, fifo, r->inject_head[node], q, t, &r->stats.peak_inject_queue);
    uint64_t ready = go + (uint64_t)r->p.inject_latency;
    uint64_t leaves = ready;
    int64_t at = node;
    const uint64_t hop = (uint64_t)r->p.hop_latency;
    const int64_t cycles = r->p.calendar_cycles;
    const uint64_t mask = (uint64_t)(cycles - 1), cap = (uint64_t)r->p.data_bandwidth;
    ring_slot *const links = r->links;
    uint64_t stalls = 0;                    /* summed here: stats stores would reload r->p */

    const int64_t ways = r->p.ways;
    const int64_t set = set_of(r, word) * n;              /* the word's set at node 0 */
    uint64_t *const tags = r->tags + set * ways;
    ring_line *const lines = r->lines + set * ways;
    uint16_t *const fill = r->fill + set;

    /* A word never put in its set since the flush is at no node: no node looks for it. */
    uint64_t *const seen = &r->seen[set_of(r, word)];
    const int absent = !(*seen & seen_bit(r, word));
    *seen |= seen_bit(r, word);

    /* The trip's puts take the next n use stamps in order (nothing else takes one meanwhile). */
    uint64_t use = r->uses;
    r->uses += (uint64_t)n;

    r->stats.stores++;
    int64_t way = put_at(r, node, tags + node * ways, lines + node * ways, fill + node, ways, word,
                         ready, 1, 0, absent, ++use);
    /* N - 1 hops reach every other node. Each hop takes the first free cycle from the word's
       arrival: as every cycle it skipped was full, no word arriving later gets ahead of it. */
    ring_slot *cal = links + at * cycles;   /* link at's calendar */
    for (int64_t d = 0; d < n - 1; d++) {
        uint64_t dep = book(cal, mask, ready, cap, 0);
        if (dep > ready) {
            stalls += dep - ready;
            mark_queued(cal, mask, ready, dep);
        }
        if (d == 0)
            leaves = dep;
        if (++at == n) {
            at = 0;
            cal = links;
        } else {
            cal += cycles;
        }
        ready = dep + hop;
        int64_t i = at * ways;
        way = put_at(r, at, tags + i, lines + i, fill + at, ways, word, ready, 1, way, absent,
                     ++use);
    }
    r->stats.link_stalls += stalls;
    r->stats.data_hops += (uint64_t)(n - 1);
    fifo[r->inject_head[node]] = leaves;
    r->inject_head[node] = (r->inject_head[node] + 1) % q;
    return go;
}

uint64_t ring_load(ring *r, int64_t node, uint64_t addr, uint64_t t)
{
    ring_line *l = lookup(r, node, addr / (uint64_t)r->p.word_bytes, 1);

    if (l == NULL) {
        r->stats.misses++;
        return RING_MISS;
    }
    if (l->ready > t)
        r->stats.hits_in_flight++;
    else
        r->stats.hits++;
    return max_u64(t + (uint64_t)r->p.hit_latency, l->ready);
}

uint64_t ring_fill(ring *r, int64_t node, uint64_t addr, uint64_t t, uint64_t fetch_latency)
{
    uint64_t word = addr / (uint64_t)r->p.word_bytes;
    ring_line *l = lookup(r, node, word, 1);

    /* A store reached the node since the miss: its copy is the newer value. */
    if (l != NULL)
        return max_u64(t + (uint64_t)r->p.hit_latency, l->ready);
    int64_t owner = owner_of(r, word);
    /* Request node -> owner and reply owner -> node: a full lap unless node is the owner. */
    int64_t trip = hops(r, node, owner) + hops(r, owner, node);
    if (trip > 0)
        r->stats.miss_messages += 2;
    uint64_t ready = t + (uint64_t)r->p.hit_latency + (uint64_t)(trip * r->p.hop_latency)
                     + fetch_latency;
    put(r, node, word, ready, 0);
    return ready;
}

uint64_t ring_signal(ring *r, int64_t node, uint64_t t, uint64_t *arrival)
{
    int64_t n = r->p.nodes;
    int64_t b = r->p.signal_buffer;
    uint64_t *fifo = r->signal_done + node * b;
    uint64_t go = admit(r, fifo, r->signal_head[node], b, t, &r->stats.peak_signals);
    uint64_t ready = go + (uint64_t)r->p.inject_latency;
    int64_t at = node;

    const uint64_t hop = (uint64_t)r->p.hop_latency;
    const int64_t cycles = r->p.calendar_cycles;
    const uint64_t mask = (uint64_t)(cycles - 1), cap = (uint64_t)r->p.signal_bandwidth;
    ring_slot *const links = r->links;
    uint64_t stalls = 0;

    r->stats.signals++;
    arrival[node] = ready;
    ring_slot *cal = links + at * cycles;   /* link at's calendar */
    for (int64_t d = 0; d < n - 1; d++) {
        /* Never before the data words waiting at this node (the sender's own ones too): no
           signal overtakes data that was ahead of it. */
        ring_slot *s = slot_in(cal, mask, ready);
        uint64_t dep;
        if (s != NULL && s->queued_until <= ready && s->signals < cap) {
            s->signals++;                   /* the usual case: it leaves on arrival */
            dep = ready;
        } else {
            dep = book(cal, mask, s != NULL ? max_u64(ready, s->queued_until) : ready, cap, 1);
        }
        stalls += dep - ready;
        if (++at == n) {
            at = 0;
            cal = links;
        } else {
            cal += cycles;
        }
        ready = dep + hop;
        arrival[at] = ready;
    }
    r->stats.link_stalls += stalls;
    r->stats.signal_hops += (uint64_t)(n - 1);
    fifo[r->signal_head[node]] = ready;
    r->signal_head[node] = (r->signal_head[node] + 1) % b;
    return go;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t ring_flush(ring *r, uint64_t t)
{
    uint64_t done = t;

    /* A dirty word is held by its owner: an owner that evicts it writes it back and cleans
       every copy, and every store reaches every node. So the owners' arrays list the work. */
    const int64_t ways = r->p.ways;
    for (int64_t o = 0; o < r->p.nodes; o++) {
        int64_t count = 0;
        for (int64_t set = 0; set < r->nsets; set++) {
            int64_t i = set * r->p.nodes + o;
            const uint64_t *tags = r->tags + i * ways;
            const ring_line *lines = r->lines + i * ways;
            /* The set's dirty owned words, MRU first (the log's order): insertion by use. */
            int64_t k = 0;
            for (int64_t w = 0, used = r->fill[i]; w < used; w++)
                if (lines[w].dirty
                    && owner_of(r, tags[w]) == o) {
                    int64_t j = k++;
                    for (; j > 0 && lines[r->order[j - 1]].use < lines[w].use; j--)
                        r->order[j] = r->order[j - 1];
                    r->order[j] = w;
                }
            for (int64_t j = 0; j < k; j++) {
                const ring_line *l = &lines[r->order[j]];
                r->scratch[count++] = l->ready;
                r->written[r->nwritten++] = (ring_writeback){
                    tags[r->order[j]] * (uint64_t)r->p.word_bytes, max_u64(l->ready, t)};
            }
        }
        /* The L1 port takes the words as they arrive, one every writeback_cycles. */
        if (count > 32) {
            qsort(r->scratch, (size_t)count, sizeof *r->scratch, cmp_u64);
        } else {                            /* the usual few words: no call */
            for (int64_t i = 1; i < count; i++) {
                uint64_t v = r->scratch[i];
                int64_t j = i;
                for (; j > 0 && r->scratch[j - 1] > v; j--)
                    r->scratch[j] = r->scratch[j - 1];
                r->scratch[j] = v;
            }
        }
        uint64_t port = max_u64(r->port_free[o], t);
        for (int64_t i = 0; i < count; i++)
            port = max_u64(port, r->scratch[i]) + (uint64_t)r->p.writeback_cycles;
        r->port_free[o] = port;
        r->stats.writebacks += (uint64_t)count;
        done = max_u64(done, port);
    }
    clear_lines(r);
    r->stats.flushes++;
    return done;
}

const ring_writeback *ring_take_writebacks(ring *r, int64_t *n)
{
    *n = r->nwritten;
    r->nwritten = 0;
    return r->written;
}
