namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>Work other threads ask of a session; the loop runs it on its thread.</summary>
[Flags]
internal enum SessionWorkKind
{
    None = 0,

    /// <summary>A read of the app's output that waited has completed.</summary>
    OutputReady = 1,

    /// <summary>A flush to the app's input that waited has completed.</summary>
    InputResumed = 2,

    /// <summary>The connection was aborted.</summary>
    Abort = 4,

    /// <summary>Kestrel disposed the connection.</summary>
    Dispose = 8,
}

/// <summary>
/// The set of work a session has pending, lock-free: any thread adds, the loop takes it all. Only
/// the add that finds the set empty posts the session to its loop, so a burst of requests costs one
/// post.
/// </summary>
internal struct SessionWork
{
    private int _pending;

    /// <summary>Adds <paramref name="work"/>; true when the set was empty (post the session to its loop).</summary>
    public bool Add(SessionWorkKind work)
    {
        int before;
        do
        {
            before = Volatile.Read(ref _pending);
        }
        while (Interlocked.CompareExchange(ref _pending, before | (int)work, before) != before);

        return before == 0;
    }

    /// <summary>Whether anything is pending (a hint: another thread may add work right after).</summary>
    public bool IsPending => Volatile.Read(ref _pending) != 0;

    /// <summary>Takes everything pending, leaving the set empty. Loop thread.</summary>
    public SessionWorkKind TakeAll() => (SessionWorkKind)Interlocked.Exchange(ref _pending, 0);
}
