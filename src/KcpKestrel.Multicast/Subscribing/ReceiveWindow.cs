namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// The out-of-order packets of one publisher stream, by sequence, in a ring of fixed size. The
/// caller stores only sequences within one ring of the last delivered, so slots never collide.
/// The ring's bytes are allocated at the first out-of-order packet: a stream without loss never
/// pays for them.
/// </summary>
internal sealed class ReceiveWindow(int capacity, int datagramSize)
{
    private readonly int[] _lengths = new int[capacity];
    private readonly ulong[] _sequences = new ulong[capacity];
    private byte[]? _buffer;

    public int Capacity => capacity;

    public bool Contains(ulong sequence) => _sequences[Index(sequence)] == sequence;

    public void Store(ulong sequence, ReadOnlySpan<byte> packet)
    {
        _buffer ??= GC.AllocateUninitializedArray<byte>(capacity * datagramSize, pinned: true);
        var index = Index(sequence);
        packet.CopyTo(_buffer.AsSpan(index * datagramSize, datagramSize));
        _lengths[index] = packet.Length;
        _sequences[index] = sequence;
    }

    /// <summary>The packet <paramref name="sequence"/>, valid until the slot is stored again.</summary>
    public bool TryGet(ulong sequence, out ReadOnlySpan<byte> packet)
    {
        var index = Index(sequence);
        if (_sequences[index] != sequence || _buffer is null)
        {
            packet = default;
            return false;
        }

        packet = _buffer.AsSpan(index * datagramSize, _lengths[index]);
        return true;
    }

    public void Clear() => Array.Clear(_sequences);

    private int Index(ulong sequence) => (int)(sequence % (ulong)capacity);
}
