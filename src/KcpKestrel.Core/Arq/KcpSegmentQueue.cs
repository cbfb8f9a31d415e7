namespace KcpKestrel.Core.Arq;

/// <summary>
/// A growable ring of <see cref="KcpSegment"/>s: O(1) push/pop at both ends and indexed access by ref, so the
/// control block never shifts arrays the way kcp.go's slices do, and never allocates once grown.
/// </summary>
internal sealed class KcpSegmentQueue
{
    private KcpSegment[] _items;
    private int _head;
    private int _count;

    public KcpSegmentQueue(int capacity = 16)
    {
        _items = new KcpSegment[RoundUpToPowerOfTwo(Math.Max(capacity, 4))];
    }

    public int Count => _count;

    public ref KcpSegment this[int index] => ref _items[(_head + index) & (_items.Length - 1)];

    public ref KcpSegment First => ref _items[_head];

    public ref KcpSegment Last => ref _items[(_head + _count - 1) & (_items.Length - 1)];

    public void PushBack(in KcpSegment segment)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[(_head + _count) & (_items.Length - 1)] = segment;
        _count++;
    }

    /// <summary>Removes the first segment and returns it; the caller owns its buffer from then on.</summary>
    public KcpSegment PopFront()
    {
        ref var slot = ref _items[_head];
        var segment = slot;
        slot = default;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return segment;
    }

    private void Grow()
    {
        var larger = new KcpSegment[_items.Length * 2];
        for (var i = 0; i < _count; i++)
        {
            larger[i] = _items[(_head + i) & (_items.Length - 1)];
        }

        _items = larger;
        _head = 0;
    }

    internal static int RoundUpToPowerOfTwo(int value)
    {
        var result = 1;
        while (result < value)
        {
            result <<= 1;
        }

        return result;
    }
}
