using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Io;

/// <summary>
/// <see cref="MulticastOptions.DiagnosticDropRate"/>: drops a seeded share of received Data (and FEC
/// Parity) packets; control packets pass, so the loss is the kind NAKs (or FEC) repair. Deterministic
/// for a seed and input. With a cipher or FEC it runs on opened wire packets, before FEC decoding.
/// </summary>
internal sealed class ReceiveDropFilter(double rate, int seed)
{
    private readonly Random _random = new(seed);

    public long Dropped { get; private set; }

    public bool Drop(ReadOnlySpan<byte> datagram)
    {
        if (rate <= 0 || datagram.Length < PacketHeader.Size || (PacketKind)datagram[2] is not (PacketKind.Data or PacketKind.Parity) || _random.NextDouble() >= rate)
        {
            return false;
        }

        Dropped++;
        return true;
    }
}
