using System.Runtime.InteropServices;

namespace KcpKestrel.IoUring;

/// <summary>
/// A provided-buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19): a group of equal buffers the
/// kernel picks from for requests with IOSQE_BUFFER_SELECT, naming the one it used in the CQE.
/// The owner hands each buffer back with <see cref="Recycle"/> once it has read it; every buffer is
/// in the ring at the start. Memory is native and never moves.
/// </summary>
internal sealed unsafe class ProvidedBufferRing : IDisposable
{
    private readonly IoUringRing _ring;
    private readonly IoUringBuf* _entries;
    private readonly byte* _buffers;
    private readonly ushort _mask;
    private ushort _tail;
    private bool _disposed;

    private ProvidedBufferRing(IoUringRing ring, ushort groupId, ushort count, int bufferSize, IoUringBuf* entries, byte* buffers)
    {
        _ring = ring;
        GroupId = groupId;
        Count = count;
        BufferSize = bufferSize;
        _entries = entries;
        _buffers = buffers;
        _mask = (ushort)(count - 1);
    }

    public ushort GroupId { get; }

    /// <summary>Buffers in the group (a power of two).</summary>
    public ushort Count { get; }

    public int BufferSize { get; }

    /// <summary>Buffers handed to the kernel and not yet back from a completion.</summary>
    public int InKernel { get; private set; }

    /// <summary>Buffers the kernel filled and the owner has not yet handed back: 0 whenever the owner is idle, or it leaks.</summary>
    public int Out => Count - InKernel;

    /// <summary>Registers a ring of <paramref name="count"/> (power of two, at most 32768) buffers of <paramref name="bufferSize"/> bytes.</summary>
    public static ProvidedBufferRing Register(IoUringRing ring, ushort groupId, ushort count, int bufferSize)
    {
        if (count == 0 || (count & (count - 1)) != 0 || count > 32768)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "A power of two up to 32768.");
        }

        var entries = (IoUringBuf*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(IoUringBuf)), 4096);
        NativeMemory.Clear(entries, (nuint)(count * sizeof(IoUringBuf)));
        var buffers = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)bufferSize, 64);
        var reg = new IoUringBufReg { RingAddr = (ulong)entries, RingEntries = count, Bgid = groupId };
        var r = IoUringSyscalls.Register(ring.Fd, IoUringConstants.RegisterPbufRing, &reg, 1);
        if (r < 0)
        {
            NativeMemory.AlignedFree(entries);
            NativeMemory.AlignedFree(buffers);
            throw new IoUringUnavailableException(DescribeRegisterError(-r));
        }

        var pbuf = new ProvidedBufferRing(ring, groupId, count, bufferSize, entries, buffers);
        for (var i = 0; i < count; i++)
        {
            pbuf.Add((ushort)i);
        }

        pbuf.Publish();
        return pbuf;
    }

    /// <summary>Why IORING_REGISTER_PBUF_RING failed, in words, for the fallback log line.</summary>
    public static string DescribeRegisterError(int errno) => errno switch
    {
        IoUringConstants.ENOMEM => "IORING_REGISTER_PBUF_RING failed: ENOMEM (pinning the buffer ring passed RLIMIT_MEMLOCK, or memory is short)",
        IoUringConstants.EPERM => "IORING_REGISTER_PBUF_RING failed: EPERM (refused by a seccomp filter or an LSM)",
        IoUringConstants.EINVAL => "IORING_REGISTER_PBUF_RING failed: EINVAL (needs Linux 5.19)",
        _ => $"IORING_REGISTER_PBUF_RING failed: errno {errno}",
    };

    /// <summary>Buffer <paramref name="bufferId"/>'s first <paramref name="length"/> bytes.</summary>
    public Span<byte> Buffer(ushort bufferId, int length) => new(Address(bufferId), Math.Min(length, BufferSize));

    public byte* Address(ushort bufferId) => _buffers + ((nint)bufferId * BufferSize);

    /// <summary>Takes note that the kernel filled a buffer (a CQE with F_BUFFER named it).</summary>
    public void OnTaken() => InKernel--;

    /// <summary>Hands one buffer back to the kernel, visible at once.</summary>
    public void Recycle(ushort bufferId)
    {
        Add(bufferId);
        Publish();
    }

    private void Add(ushort bufferId)
    {
        ref var entry = ref _entries[_tail & _mask];
        entry.Addr = (ulong)Address(bufferId);
        entry.Len = (uint)BufferSize;
        entry.Bid = bufferId;
        _tail++;
        InKernel++;
    }

    // The tail lives in the last 16 bits of entry 0 (struct io_uring_buf_ring); the kernel reads it
    // with an acquire load, so the entries written before it must be visible first: release.
    private void Publish() => Volatile.Write(ref *(ushort*)((byte*)_entries + 14), _tail);

    /// <summary>Unregisters the group (owner thread, ring open) and frees its memory.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            var reg = new IoUringBufReg { Bgid = GroupId };
            _ = IoUringSyscalls.Register(_ring.Fd, IoUringConstants.UnregisterPbufRing, &reg, 1);
        }

        Free();
    }

    /// <summary>
    /// Frees the memory without unregistering: only once the ring is closed (which drops the group
    /// and cancels what could still write into it), e.g. from a thread that may not enter the ring.
    /// </summary>
    public void Free()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.AlignedFree(_entries);
        NativeMemory.AlignedFree(_buffers);
    }
}
