using KcpKestrel.IoUring;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The ring and buffer sizes of each io_uring worker. Internal on purpose: they are mechanics, not settings a user
/// should need; tests shrink them to provoke a full submission queue, a completion queue overflow or ENOBUFS.
/// </summary>
internal sealed record IoUringTcpTuning
{
    /// <summary>The sizes the engine runs with.</summary>
    public static IoUringTcpTuning Default { get; } = new();

    /// <summary>Submission queue entries (a power of two). A full queue is submitted mid-batch, so this bounds only syscalls, not work.</summary>
    public uint SqEntries { get; init; } = 256;

    /// <summary>
    /// Completion queue entries (a power of two, at least <see cref="SqEntries"/>). Multishot accept and receive can
    /// post more completions than were submitted; past this the kernel holds them back (IORING_FEAT_NODROP).
    /// </summary>
    public uint CqEntries { get; init; } = 4096;

    /// <summary>Provided buffers per worker (a power of two); all in use, a receive ends with ENOBUFS and is armed again.</summary>
    public ushort BufferCount { get; init; } = 256;

    /// <summary>Bytes per provided buffer: the most one receive completion carries.</summary>
    public int BufferSize { get; init; } = 16 * 1024;

    /// <summary>A worker's ring with these sizes, polled by a kernel thread when <paramref name="sqPoll"/>.</summary>
    public IoUringRingOptions RingOptions(bool sqPoll, int sqPollIdleMilliseconds) =>
        new() { Entries = SqEntries, CompletionEntries = CqEntries, SqPoll = sqPoll, SqPollIdleMs = (uint)sqPollIdleMilliseconds };

    /// <summary>Registers a worker's provided-buffer group on <paramref name="ring"/>.</summary>
    public ProvidedBufferRing RegisterBuffers(IoUringRing ring, ushort groupId) => ProvidedBufferRing.Register(ring, groupId, BufferCount, BufferSize);
}
