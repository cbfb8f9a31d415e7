namespace KcpKestrel.Multicast.Codec;

/// <summary>
/// What the packet codec (cipher and FEC) did, for metrics and tests. Receive-side fields have one
/// writer (the receive thread), send-side ones are written under the codec's send lock; readers on
/// other threads see a recent value.
/// </summary>
internal sealed class PacketCodecCounters
{
    /// <summary>Datagrams whose tag did not verify, or too short to hold one (forged, corrupt, wrong key).</summary>
    public long ForgedDropped;

    /// <summary>Authentic datagrams refused as replays: nonce seen, older than its sender's window, or outside the clock skew.</summary>
    public long ReplaysDropped;

    /// <summary>Authentic datagrams from a new sender refused because every replay window was still needed.</summary>
    public long SendersRefused;

    /// <summary>Data packets rebuilt from parity and handed to the protocol core.</summary>
    public long FecRecovered;

    public long ParitySent;
    public long ParityReceived;

    /// <summary>Parity packets refused (another FEC shape, malformed, a stream past the limit, FEC off here) and rebuilds that made no packet.</summary>
    public long ParityDropped;
}
