namespace KcpKestrel.Multicast.Publishing;

/// <summary>
/// The publisher's history ring: the last <c>capacity</c> datagrams by sequence, in one pinned array
/// allocated up front, so a subscriber that falls behind cannot make it grow. The packet being
/// batched is built in place in its own slot (no copy on send), which is why the ring holds
/// <c>capacity - 1</c> sent packets.
/// </summary>
internal sealed class PacketHistory
{
    private readonly byte[] _buffer;
    private readonly int[] _lengths;
    private readonly ulong[] _sequences;
    private readonly long[] _lastResend;

    public PacketHistory(int capacity, int datagramSize)
    {
        Capacity = capacity;
        DatagramSize = datagramSize;
        _buffer = GC.AllocateUninitializedArray<byte>(capacity * datagramSize, pinned: true);
        _lengths = new int[capacity];
        _sequences = new ulong[capacity];
        _lastResend = new long[capacity];
    }

    public int Capacity { get; }

    public int DatagramSize { get; }

    /// <summary>The slot of <paramref name="sequence"/>, to build the packet in.</summary>
    public Span<byte> Slot(ulong sequence) =>
        _buffer.AsSpan(Index(sequence) * DatagramSize, DatagramSize);

    /// <summary>Records that <paramref name="sequence"/>'s slot now holds a sent packet of <paramref name="length"/> bytes.</summary>
    public void Commit(ulong sequence, int length)
    {
        var index = Index(sequence);
        _lengths[index] = length;
        _sequences[index] = sequence;
        _lastResend[index] = long.MinValue;
    }

    /// <summary>The oldest sequence still held when <paramref name="next"/> is the one being built.</summary>
    public ulong Oldest(ulong next) => next > (ulong)Capacity ? next - (ulong)Capacity + 1 : 1;

    /// <summary>The sent packet <paramref name="sequence"/>, if the ring still holds it.</summary>
    public bool TryGet(ulong sequence, out Span<byte> packet)
    {
        var index = Index(sequence);
        if (_sequences[index] != sequence)
        {
            packet = default;
            return false;
        }

        packet = _buffer.AsSpan(index * DatagramSize, _lengths[index]);
        return true;
    }

    /// <summary>
    /// Marks a resend of <paramref name="sequence"/> at <paramref name="now"/>; false when it was resent
    /// less than <paramref name="window"/> ago (a duplicate NAK, answered by that resend already).
    /// </summary>
    public bool TryMarkResend(ulong sequence, long now, long window)
    {
        var index = Index(sequence);
        var last = _lastResend[index];
        if (last != long.MinValue && now - last < window)
        {
            return false;
        }

        _lastResend[index] = now;
        return true;
    }

    private int Index(ulong sequence) => (int)(sequence % (ulong)Capacity);
}
