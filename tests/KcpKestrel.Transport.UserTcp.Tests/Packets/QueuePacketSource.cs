using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

/// <summary>
/// The simplest packet source: one queue whose inbound packets a test enqueues and whose sent packets it reads
/// back, each packet a 4-byte sequence number then filler, preallocated (so the allocation test measures only the
/// decorator).
/// </summary>
internal sealed class QueuePacketSource : IPacketSource, IPacketQueue
{
    private readonly byte[][] _inbound;
    private int _inHead;
    private int _inCount;

    public QueuePacketSource(int capacity, int mtu = 1500)
    {
        Mtu = mtu;
        _inbound = new byte[capacity][];
        SentNumbers = new int[capacity * 2];
    }

    public int Mtu { get; }

    public int QueueCount => 1;

    /// <summary>The sequence numbers of the packets sent, in order.</summary>
    public int[] SentNumbers { get; }

    public int SentCount { get; private set; }

    public int Wakes { get; private set; }

    public IPacketQueue OpenQueue(int index) => this;

    public void Enqueue(byte[] packet)
    {
        _inbound[(_inHead + _inCount) % _inbound.Length] = packet;
        _inCount++;
    }

    public bool Wait(int timeoutMs) => _inCount > 0;

    public void Wake() => Wakes++;

    public int TryReceive(Span<byte> buffer)
    {
        if (_inCount == 0)
        {
            return 0;
        }

        var packet = _inbound[_inHead];
        _inHead = (_inHead + 1) % _inbound.Length;
        _inCount--;
        packet.CopyTo(buffer);
        return packet.Length;
    }

    public void Send(ReadOnlySpan<byte> packet)
    {
        if (SentCount < SentNumbers.Length)
        {
            SentNumbers[SentCount] = Number(packet);
        }

        SentCount++;
    }

    public void ResetSent() => SentCount = 0;

    public static byte[] Packet(int number, int length = 100)
    {
        var packet = new byte[length];
        BitConverter.TryWriteBytes(packet, number);
        return packet;
    }

    public static int Number(ReadOnlySpan<byte> packet) => BitConverter.ToInt32(packet);

    public void Dispose()
    {
    }
}
