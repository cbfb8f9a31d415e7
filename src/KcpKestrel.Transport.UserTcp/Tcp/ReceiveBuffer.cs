using System.Buffers;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// A connection's receive ring with out-of-order reassembly: in-order bytes wait for the app from the read head on;
/// a segment beyond RCV.NXT is written where it belongs and its range remembered (at most
/// <see cref="MaxRanges"/>, which are also the SACK blocks this side reports) until the hole before it fills. The
/// array is rented at the first byte and returned when nothing is held, so an idle connection holds no buffer.
/// </summary>
internal struct ReceiveBuffer
{
    /// <summary>Out-of-order ranges kept; a segment that would need more is dropped (the sender resends it).</summary>
    public const int MaxRanges = 8;

    private byte[]? _buffer;
    private SackBlock[]? _ranges;
    private int _head;
    private int _readable;
    private int _rangeCount;
    private uint _latestStart;

    /// <summary>In-order bytes the app can read.</summary>
    public readonly int Readable => _readable;

    /// <summary>Whether out-of-order ranges wait for a hole to fill.</summary>
    public readonly bool HasOutOfOrder => _rangeCount > 0;

    /// <summary>Whether an array is rented now.</summary>
    public readonly bool HasBuffer => _buffer is not null;

    /// <summary>
    /// Stores <paramref name="data"/> at <paramref name="seq"/> (the caller trimmed it to [RCV.NXT, RCV.NXT + window)).
    /// Returns how far RCV.NXT advances (0 for an out-of-order segment), or -1 when the segment was not stored
    /// (too many ranges).
    /// </summary>
    public int Write(uint rcvNxt, uint seq, ReadOnlySpan<byte> data, int capacity, ArrayPool<byte> pool)
    {
        if (data.IsEmpty)
        {
            return 0;
        }

        var offset = (int)(seq - rcvNxt);
        if (offset > 0 && !TryAddRange(seq, seq + (uint)data.Length))
        {
            return -1;
        }

        _buffer ??= pool.Rent(capacity);
        var position = (_head + _readable + offset) % capacity;
        var first = Math.Min(data.Length, capacity - position);
        data[..first].CopyTo(_buffer.AsSpan(position));
        data[first..].CopyTo(_buffer);
        if (offset > 0)
        {
            return 0;
        }

        // In order: take it, then every remembered range the new edge reaches.
        var next = rcvNxt + (uint)data.Length;
        while (_rangeCount > 0 && Sequence.Le(_ranges![0].Start, next))
        {
            next = Sequence.Max(next, _ranges[0].End);
            RemoveFirstRange();
        }

        var advanced = (int)(next - rcvNxt);
        _readable += advanced;
        return advanced;
    }

    /// <summary>Copies in-order bytes out; returns the array when nothing is held.</summary>
    public int Read(Span<byte> destination, int capacity, ArrayPool<byte> pool)
    {
        var n = Math.Min(destination.Length, _readable);
        if (n <= 0)
        {
            return 0;
        }

        var first = Math.Min(n, capacity - _head);
        _buffer.AsSpan(_head, first).CopyTo(destination);
        _buffer.AsSpan(0, n - first).CopyTo(destination[first..]);
        _head = (_head + n) % capacity;
        _readable -= n;
        if (_readable == 0 && _rangeCount == 0)
        {
            Release(pool);
        }

        return n;
    }

    /// <summary>
    /// Writes up to <paramref name="max"/> SACK blocks (RFC 2018 §4): the range holding the latest out-of-order
    /// segment first, then the others in order. Returns how many.
    /// </summary>
    public readonly int WriteSackBlocks(ref SackBlocks blocks, int max)
    {
        var count = 0;
        for (var i = 0; i < _rangeCount && count < max; i++)
        {
            if (Sequence.InRange(_latestStart, _ranges![i].Start, _ranges[i].End))
            {
                blocks[count++] = _ranges[i];
                break;
            }
        }

        for (var i = 0; i < _rangeCount && count < max; i++)
        {
            if (count > 0 && blocks[0] == _ranges![i])
            {
                continue;
            }

            blocks[count++] = _ranges![i];
        }

        return count;
    }

    /// <summary>Returns the arrays and forgets everything.</summary>
    public void Release(ArrayPool<byte> pool)
    {
        if (_buffer is not null)
        {
            pool.Return(_buffer);
            _buffer = null;
        }

        _head = 0;
        _readable = 0;
        _rangeCount = 0;
    }

    private bool TryAddRange(uint start, uint end)
    {
        _ranges ??= new SackBlock[MaxRanges];
        _latestStart = start;

        // Find the first range that ends at or after start; merge every range the new one touches.
        var i = 0;
        while (i < _rangeCount && Sequence.Lt(_ranges[i].End, start))
        {
            i++;
        }

        var j = i;
        while (j < _rangeCount && Sequence.Le(_ranges[j].Start, end))
        {
            start = Sequence.Min(start, _ranges[j].Start);
            end = Sequence.Max(end, _ranges[j].End);
            j++;
        }

        var merged = j - i;
        if (merged == 0 && _rangeCount == MaxRanges)
        {
            return false;
        }

        // Replace ranges [i, j) with the one merged range.
        var shift = 1 - merged;
        if (shift != 0)
        {
            Array.Copy(_ranges, j, _ranges, j + shift, _rangeCount - j);
            _rangeCount += shift;
        }

        _ranges[i] = new SackBlock(start, end);
        return true;
    }

    private void RemoveFirstRange()
    {
        _rangeCount--;
        Array.Copy(_ranges!, 1, _ranges!, 0, _rangeCount);
    }
}
