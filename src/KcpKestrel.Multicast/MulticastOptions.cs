namespace KcpKestrel.Multicast;

/// <summary>
/// The settings of a multicast publisher and subscriber: each one's name, default and range live
/// here (<see cref="Validate"/>). Times are <see cref="TimeSpan"/>s; the protocol core works in
/// microseconds.
/// </summary>
public sealed class MulticastOptions
{
    /// <summary>The largest UDP payload over IPv4.</summary>
    public const int MaxDatagramSize = 65507;

    /// <summary>The most memory the publisher's history may pin: <see cref="HistoryPackets"/> × <see cref="DatagramSize"/> (1 GiB).</summary>
    public const long MaxHistoryBytes = 1L << 30;

    /// <summary>This process's node id (1-65535; 0 means "everyone" on the wire). Default 1.</summary>
    public ushort NodeId { get; set; } = 1;

    /// <summary>The publisher's stream id: one sequence space per node and stream. Default 1.</summary>
    public uint StreamId { get; set; } = 1;

    /// <summary>Reliable (NAKs repair gaps) or unreliable (gaps are skipped). Default true.</summary>
    public bool Reliable { get; set; } = true;

    /// <summary>
    /// Bytes per datagram, 512-65507. Default 1400 (one Ethernet MTU, lowest latency). A subscriber buffers
    /// out-of-order packets up to this size only: set it at least to the publishers' (a longer packet behind
    /// a gap is dropped and NAKed again after the gap's repair, which under load lost messages).
    /// </summary>
    public int DatagramSize { get; set; } = 1400;

    /// <summary>
    /// Packets the publisher keeps for resends, 16-1048576, and at most <see cref="MaxHistoryBytes"/> times
    /// <see cref="DatagramSize"/>. Default 16384. Fixed memory, allocated (pinned)
    /// at the first offer: this times <see cref="DatagramSize"/>, 23 MB at the default 1400 B. Measured on
    /// loopback, 2 M 70-byte messages unpaced to 1 and 3 subscribers with and without 5% loss: 8192 lost
    /// messages in 2 runs of 12 (a subscriber descheduled longer than the ring lasts, about 65 ms at full
    /// rate, NAKs packets already overwritten before any NAK could slow the publisher); 16384 and 32768
    /// lost none and ran faster. <see cref="RepairHold"/> keeps what is being repaired whatever the size.
    /// </summary>
    public int HistoryPackets { get; set; } = 16384;

    /// <summary>
    /// How long past its send time a packet a NAK asked for may keep its history slot, 0 (never: the ring
    /// overwrites it)-10 s. Default 500 ms. While a subscriber is repairing the oldest packets, the
    /// publisher's offers wait (counted as repair waits) instead of overwriting them, which paces an
    /// unlimited publisher to its repairing subscribers instead of losing messages to its own history.
    /// A NAK holds its packet for twice the subscriber's next retry interval (<see cref="NakRetry"/>,
    /// <see cref="NakRetryMax"/>: set them alike across the group), never past this bound, so NAKs,
    /// honest or not, slow the publisher to no less than <see cref="HistoryPackets"/> per
    /// <see cref="RepairHold"/>. Reliable streams only. Measured (1 publisher, 3 subscribers, 5% loss, 2 cores):
    /// 200 ms lost messages in 1 run of 16 (a repair resent into a full socket buffer again and again
    /// outlasted it), 500 ms and 1 s in none of 6 each; 1 s ran slower.
    /// </summary>
    public TimeSpan RepairHold { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Packets per second, new and resent together, 0 (no limit)-10000000. Default 0.</summary>
    public int PacketsPerSecond { get; set; }

    /// <summary>
    /// Whether the publisher lowers its new-data rate when NAKs show congestion. Default true. A publisher
    /// faster than a subscriber overflows that subscriber's socket buffer, which drops whole bursts, and
    /// each burst costs a burst of repairs. NAKs for runs of consecutive packets (a full queue, unlike random
    /// loss) cut the rate to 0.7 × the measured send rate; it climbs back while they stay away, never above
    /// <see cref="PacketsPerSecond"/>. Until the first such NAK it costs nothing. Measured (loopback, 8 KiB
    /// datagrams, 1 subscriber): 5-25× fewer retransmits, 10-25% lower throughput, no loss either way
    /// (docs/multicast-wire.md). Off: a publisher that must not slow down for its subscribers, or whose
    /// subscribers are not trusted (false burst NAKs slow it to 100 packets/s). Reliable streams only.
    /// </summary>
    public bool CongestionControl { get; set; } = true;

    /// <summary>How long a message waits for batching without the flush flag, 0-1 s. Default 1 ms.</summary>
    public TimeSpan FlushDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>An idle publisher's heartbeat interval, 1 ms-10 s. Default 100 ms.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>NAKs for a packet resent within this window are ignored (NAK storms), 0-1 s. Default 2 ms.</summary>
    public TimeSpan NakSuppressWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Out-of-order packets a subscriber buffers per publisher, 16-1048576; packets further ahead of a
    /// gap are dropped (and NAKed later). Default 65536: at full rate on loopback (about 100k packets/s
    /// of 1400 bytes) a repair can take tens of milliseconds behind a full socket buffer, and 4096
    /// packets left lossy runs re-fetching what they had dropped. Memory per publisher stream: at most
    /// this times <see cref="DatagramSize"/> (92 MB at 1400 B), allocated in pages only as deep as
    /// the gaps have reached (nothing without loss) and never beyond, whatever a sender does.
    /// </summary>
    public int ReceiveBufferPackets { get; set; } = 65536;

    /// <summary>
    /// The receive thread spins on non-blocking receives instead of sleeping in the kernel: lowest
    /// latency, one core kept busy per transport. Default false (blocking, saves CPU).
    /// </summary>
    public bool BusyPoll { get; set; }

    /// <summary>Publisher streams a subscriber tracks at once, 1-4096; packets from more are dropped. Default 64.</summary>
    public int MaxPublishers { get; set; } = 64;

    /// <summary>How long a gap may be only reordering before the first NAK, 0-1 s. Default 500 µs.</summary>
    public TimeSpan ReorderWait { get; set; } = TimeSpan.FromMicroseconds(500);

    /// <summary>The first NAK retry interval, doubling up to <see cref="NakRetryMax"/>, 100 µs-10 s. Default 5 ms.</summary>
    public TimeSpan NakRetry { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The longest NAK retry interval, 100 µs-60 s, at least <see cref="NakRetry"/>. Default 200 ms.</summary>
    public TimeSpan NakRetryMax { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A publisher silent this long is gone, 10 ms-1 h. Default 3 s.</summary>
    public TimeSpan PublisherTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The largest message, 1 B-64 MiB; larger ones are fragmented up to this. Default 1 MiB.</summary>
    public int MaxMessageSize { get; set; } = 1 << 20;

    /// <summary>Where a subscriber starts on a stream it has not heard before. Default <see cref="MulticastJoin.Latest"/>.</summary>
    public MulticastJoin Join { get; set; } = MulticastJoin.Latest;

    /// <summary>What a subscriber does when a gap left the publisher's history. Default <see cref="MulticastGapPolicy.Resync"/>.</summary>
    public MulticastGapPolicy OnUnrecoverable { get; set; } = MulticastGapPolicy.Resync;

    /// <summary>
    /// The group and port, e.g. <c>239.192.7.1:40100</c> or <c>[ff15::7]:40100</c>. Needed by
    /// <see cref="MulticastTransport"/>; the protocol core alone does not use it. Default null.
    /// </summary>
    public string? Group { get; set; }

    /// <summary>
    /// The interface the group is joined and sent on: its address (<c>127.0.0.1</c>, <c>::1</c>) or its
    /// name (<c>lo</c>). Null: the kernel's choice (the default route). Default null.
    /// </summary>
    public string? Interface { get; set; }

    /// <summary>
    /// Diagnostic: the share of received data packets a subscriber drops on purpose, 0-0.5, so loss
    /// and its NAK repair can be tested where <c>tc netem</c> is missing. Default 0.
    /// </summary>
    public double DiagnosticDropRate { get; set; }

    /// <summary>Diagnostic: the seed of <see cref="DiagnosticDropRate"/>'s choices, so a run repeats. Default 1.</summary>
    public int DiagnosticDropSeed { get; set; } = 1;

    /// <summary>
    /// The packet cipher (the KCP transport's <c>--crypt</c> names, AEAD modes only): <c>none</c>,
    /// <c>aes-128-gcm</c>, <c>aes-256-gcm</c> or <c>chacha20-poly1305</c>. Every member of the group needs
    /// the same mode and <see cref="Key"/>; sealed packets that are forged or replayed are dropped and
    /// counted. kcptun's other modes are refused: without a tag they stop neither. Default <c>none</c>.
    /// </summary>
    public string Crypt { get; set; } = "none";

    /// <summary>The pre-shared secret (kcptun <c>--key</c>), stretched with PBKDF2 as kcptun does. Required unless <see cref="Crypt"/> is none. Default null.</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Reed-Solomon data shards per FEC group (kcptun <c>--datashard</c>), 0-255 with <see cref="ParityShards"/>,
    /// 256 together at most: a publisher sends that many parity packets after every this many data packets,
    /// and a subscriber with the same shape rebuilds lost ones without a NAK. 0 (both): off. Default 0.
    /// </summary>
    public int DataShards { get; set; }

    /// <summary>Reed-Solomon parity shards per FEC group (kcptun <c>--parityshard</c>), 0-255; see <see cref="DataShards"/>. Default 0.</summary>
    public int ParityShards { get; set; }

    /// <summary>
    /// With a cipher: how far a sealed packet's send time may be from this host's clock (clock skew
    /// between hosts plus delay), 100 ms-1 h. Older packets are refused as replays, so a captured packet
    /// cannot come back once its sender's replay window was forgotten. Default 30 s.
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With a cipher: senders (every transport of the group, publishers and subscribers alike) whose replay
    /// windows are kept, 16-65536. A new sender beyond them is refused until one has been silent for
    /// <see cref="MaxClockSkew"/>. Default 1024.
    /// </summary>
    public int MaxSenders { get; set; } = 1024;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of its range.</summary>
    public void Validate()
    {
        Check(NodeId >= 1, nameof(NodeId));
        Check(DatagramSize is >= 512 and <= MaxDatagramSize, nameof(DatagramSize));
        Check(HistoryPackets is >= 16 and <= 1 << 20, nameof(HistoryPackets));
        Check(
            (long)HistoryPackets * DatagramSize <= MaxHistoryBytes,
            nameof(HistoryPackets),
            $"MulticastOptions.HistoryPackets ({HistoryPackets}) × DatagramSize ({DatagramSize}) would pin {(long)HistoryPackets * DatagramSize >> 20} MiB; at most {MaxHistoryBytes >> 20} MiB.");
        Check(InRange(RepairHold, TimeSpan.Zero, TimeSpan.FromSeconds(10)), nameof(RepairHold));
        Check(PacketsPerSecond is >= 0 and <= 10_000_000, nameof(PacketsPerSecond));
        Check(InRange(FlushDelay, TimeSpan.Zero, TimeSpan.FromSeconds(1)), nameof(FlushDelay));
        Check(InRange(HeartbeatInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10)), nameof(HeartbeatInterval));
        Check(InRange(NakSuppressWindow, TimeSpan.Zero, TimeSpan.FromSeconds(1)), nameof(NakSuppressWindow));
        Check(ReceiveBufferPackets is >= 16 and <= 1 << 20, nameof(ReceiveBufferPackets));
        Check(MaxPublishers is >= 1 and <= 4096, nameof(MaxPublishers));
        Check(InRange(ReorderWait, TimeSpan.Zero, TimeSpan.FromSeconds(1)), nameof(ReorderWait));
        Check(InRange(NakRetry, TimeSpan.FromMicroseconds(100), TimeSpan.FromSeconds(10)), nameof(NakRetry));
        Check(InRange(NakRetryMax, NakRetry, TimeSpan.FromSeconds(60)), nameof(NakRetryMax));
        Check(InRange(PublisherTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)), nameof(PublisherTimeout));
        Check(MaxMessageSize is >= 1 and <= 64 << 20, nameof(MaxMessageSize));
        Check(Enum.IsDefined(Join), nameof(Join));
        Check(Enum.IsDefined(OnUnrecoverable), nameof(OnUnrecoverable));
        Check(Group is null || Io.GroupAddress.TryParse(Group, out _), nameof(Group));
        Check(DiagnosticDropRate is >= 0 and <= 0.5, nameof(DiagnosticDropRate));
        Check(
            Crypt is "none" or "aes-128-gcm" or "aes-256-gcm" or "chacha20-poly1305",
            nameof(Crypt),
            $"MulticastOptions.Crypt '{Crypt}' is not accepted: multicast takes none, aes-128-gcm, aes-256-gcm or chacha20-poly1305, because only an AEAD tag lets subscribers drop forged and replayed packets.");
        Check(Crypt == "none" || !string.IsNullOrEmpty(Key), nameof(Key), $"MulticastOptions.Key is required: crypt '{Crypt}' needs a pre-shared secret.");
        Check(DataShards is >= 0 and <= 255, nameof(DataShards));
        Check(ParityShards is >= 0 and <= 255, nameof(ParityShards));
        Check(
            DataShards + ParityShards <= 256 && (DataShards > 0) == (ParityShards > 0),
            nameof(ParityShards),
            "MulticastOptions.DataShards and ParityShards must be both above 0 (256 together at most) for FEC, or both 0 for none.");
        Check(InRange(MaxClockSkew, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)), nameof(MaxClockSkew));
        Check(MaxSenders is >= 16 and <= 65536, nameof(MaxSenders));
    }

    /// <summary>A time in whole microseconds, the core's clock unit.</summary>
    internal static long Micros(TimeSpan time) => time.Ticks / TimeSpan.TicksPerMicrosecond;

    private static bool InRange(TimeSpan value, TimeSpan min, TimeSpan max) => value >= min && value <= max;

    private static void Check(bool ok, string name, string? message = null)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, message ?? $"MulticastOptions.{name} is out of its range.");
        }
    }
}
