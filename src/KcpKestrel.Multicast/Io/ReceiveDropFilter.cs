using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Io;

/// <summary>
/// <see cref="MulticastOptions.DiagnosticDropRate"/>: drops a seeded share of received Data packets
/// (control packets pass, so the loss is the kind NAKs repair). Deterministic for a seed and input.
/// </summary>
internal sealed class ReceiveDropFilter(double rate, int seed)
{
    private readonly Random _random = new(seed);

    public long Dropped { get; private set; }

    public bool Drop(ReadOnlySpan<byte> datagram)
    {
        if (rate <= 0 || datagram.Length < PacketHeader.Size || (PacketKind)datagram[2] != PacketKind.Data || _random.NextDouble() >= rate)
        {
            return false;
        }

        Dropped++;
        return true;
    }
}
