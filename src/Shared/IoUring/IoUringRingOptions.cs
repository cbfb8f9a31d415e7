namespace KcpKestrel.IoUring;

/// <summary>How to set a ring up. Immutable; the defaults suit one ring per event-loop thread.</summary>
internal sealed record IoUringRingOptions
{
    /// <summary>Submission queue entries (a power of two; the kernel rounds up).</summary>
    public uint Entries { get; init; } = 256;

    /// <summary>Completion queue entries; 0 for the kernel's default of twice <see cref="Entries"/>.</summary>
    public uint CompletionEntries { get; init; }

    /// <summary>
    /// Ask for IORING_SETUP_SINGLE_ISSUER and IORING_SETUP_DEFER_TASKRUN (Linux 6.1): completions are
    /// produced only when the owning thread enters the ring, without interrupting it. Dropped silently
    /// when the kernel refuses them; the ring then reports <see cref="IoUringRing.DeferTaskRun"/> false.
    /// The ring must then be used from the thread that created it.
    /// </summary>
    public bool SingleIssuer { get; init; } = true;

    /// <summary>
    /// Make the ring disabled (IORING_SETUP_R_DISABLED, Linux 5.10): it can be set up (buffer rings
    /// registered) from any thread, and the thread that calls <see cref="IoUringRing.Enable"/> becomes
    /// its single issuer. Lets a loop find out at construction, on the caller's thread, that a ring
    /// cannot be had, while the ring still belongs to the loop's own thread.
    /// </summary>
    public bool StartDisabled { get; init; }

    /// <summary>A kernel thread polls the submission queue (IORING_SETUP_SQPOLL): no syscall per submit, one core spent spinning.</summary>
    public bool SqPoll { get; init; }

    /// <summary>Idle time before the SQPOLL thread sleeps.</summary>
    public uint SqPollIdleMs { get; init; } = 50;
}
