using System.Buffers;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// A connection's send ring: bytes the app queued, from the oldest unacknowledged one on. The array is rented from
/// the connection's <see cref="ArrayPool{T}"/> at the first write and returned as soon as everything is acknowledged, so an idle
/// connection holds no buffer. A struct inside the connection: one object fewer per stream.
/// </summary>
internal struct SendBuffer
{
    private byte[]? _buffer;
    private int _head;
    private int _count;

    /// <summary>Bytes held (sent or not, not yet acknowledged).</summary>
    public readonly int Count => _count;

    /// <summary>Whether an array is rented now.</summary>
    public readonly bool HasBuffer => _buffer is not null;

    /// <summary>Appends what fits under <paramref name="capacity"/>; returns how much.</summary>
    public int Write(ReadOnlySpan<byte> data, int capacity, ArrayPool<byte> pool)
    {
        var n = Math.Min(data.Length, capacity - _count);
        if (n <= 0)
        {
            return 0;
        }

        _buffer ??= pool.Rent(capacity);
        var size = Math.Min(_buffer.Length, capacity);
        var tail = (_head + _count) % size;
        var first = Math.Min(n, size - tail);
        data[..first].CopyTo(_buffer.AsSpan(tail));
        data[first..n].CopyTo(_buffer);
        _count += n;
        return n;
    }

    /// <summary>The <paramref name="length"/> bytes at <paramref name="offset"/> from the oldest, as up to two spans (the ring's wrap).</summary>
    public readonly void Peek(int offset, int length, int capacity, out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second)
    {
        if (length == 0 || _buffer is null)
        {
            first = second = default;
            return;
        }

        var size = Math.Min(_buffer.Length, capacity);
        var start = (_head + offset) % size;
        var firstLength = Math.Min(length, size - start);
        first = _buffer.AsSpan(start, firstLength);
        second = _buffer.AsSpan(0, length - firstLength);
    }

    /// <summary>Drops the <paramref name="n"/> oldest bytes (acknowledged); returns the array when nothing is left.</summary>
    public void Consume(int n, int capacity, ArrayPool<byte> pool)
    {
        n = Math.Min(n, _count);
        if (n <= 0)
        {
            return;
        }

        _count -= n;
        if (_count == 0)
        {
            Release(pool);
            return;
        }

        _head = (_head + n) % Math.Min(_buffer!.Length, capacity);
    }

    /// <summary>Returns the array and forgets the bytes.</summary>
    public void Release(ArrayPool<byte> pool)
    {
        if (_buffer is not null)
        {
            pool.Return(_buffer);
            _buffer = null;
        }

        _head = 0;
        _count = 0;
    }
}
