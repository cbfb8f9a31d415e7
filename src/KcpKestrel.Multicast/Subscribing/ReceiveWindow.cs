namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// The out-of-order packets of one publisher stream, by sequence, in a ring at least
/// <see cref="Capacity"/> slots long. The caller stores only sequences within one capacity of the last
/// delivered, so slots never collide. The ring's bytes come in pages of 256 slots: a page is taken
/// (from the ones given back, or allocated) when a packet first lands in its part of the ring, and
/// given back once delivery has passed its last slot. Memory so follows the deepest gap the stream has
/// needed (nothing without loss), never more than the capacity times the datagram size, and steady
/// state allocates nothing.
/// </summary>
internal sealed class ReceiveWindow
{
    private const int PageShift = 8;
    private const int PageSlots = 1 << PageShift;

    private readonly int _datagramSize;
    private readonly ulong _ring;
    private readonly int[] _lengths;
    private readonly ulong[] _sequences;
    private readonly byte[]?[] _pages;
    private readonly ulong[] _pageTop;
    private readonly Stack<byte[]> _spare;
    private int _allocatedPages;

    public ReceiveWindow(int capacity, int datagramSize)
    {
        Capacity = capacity;
        _datagramSize = datagramSize;

        // Whole pages, so each page holds one run of 256 consecutive sequences.
        var pages = (capacity + PageSlots - 1) >> PageShift;
        _ring = (ulong)pages << PageShift;
        _lengths = new int[_ring];
        _sequences = new ulong[_ring];
        _pages = new byte[]?[pages];
        _pageTop = new ulong[pages];
        _spare = new Stack<byte[]>(pages);
    }

    public int Capacity { get; }

    /// <summary>The longest packet a slot holds.</summary>
    public int SlotSize => _datagramSize;

    /// <summary>Bytes of the pages allocated so far (in use or spare).</summary>
    public long AllocatedBytes => _allocatedPages * (long)PageSlots * _datagramSize;

    public bool Contains(ulong sequence) => _sequences[Index(sequence)] == sequence;

    public void Store(ulong sequence, ReadOnlySpan<byte> packet)
    {
        var index = Index(sequence);
        var number = index >> PageShift;
        var page = _pages[number] ??= Take();
        packet.CopyTo(page.AsSpan((index & (PageSlots - 1)) * _datagramSize, _datagramSize));
        _lengths[index] = packet.Length;
        _sequences[index] = sequence;
        _pageTop[number] = Math.Max(_pageTop[number], sequence);
    }

    /// <summary>The packet <paramref name="sequence"/>, valid until the slot is stored again.</summary>
    public bool TryGet(ulong sequence, out ReadOnlySpan<byte> packet)
    {
        var index = Index(sequence);
        var page = _pages[index >> PageShift];
        if (_sequences[index] != sequence || page is null)
        {
            packet = default;
            return false;
        }

        packet = page.AsSpan((index & (PageSlots - 1)) * _datagramSize, _lengths[index]);
        return true;
    }

    /// <summary>
    /// Delivery reached <paramref name="delivered"/>: when that ends a page's run and nothing further
    /// ahead was stored in it, the page goes back to the spares. (A jump past a page's end, a resync,
    /// leaves its page in place; it is reused when the ring comes round.)
    /// </summary>
    public void Delivered(ulong delivered)
    {
        if ((delivered & (PageSlots - 1)) != PageSlots - 1)
        {
            return;
        }

        var number = Index(delivered) >> PageShift;
        if (_pages[number] is { } page && _pageTop[number] <= delivered)
        {
            _pages[number] = null;
            _spare.Push(page);
        }
    }

    public void Clear() => Array.Clear(_sequences);

    private byte[] Take()
    {
        if (_spare.TryPop(out var page))
        {
            return page;
        }

        _allocatedPages++;
        return GC.AllocateUninitializedArray<byte>(PageSlots * _datagramSize, pinned: true);
    }

    private int Index(ulong sequence) => (int)(sequence % _ring);
}
