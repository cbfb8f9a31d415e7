namespace KcpKestrel.Shared;

/// <summary>Fires a connection's <c>ConnectionClosed</c> token once, off the I/O loop so app callbacks never run on it.</summary>
internal static class ConnectionClosedSignal
{
    /// <summary>Cancels <paramref name="closed"/> on the thread pool the first time it is called for <paramref name="signalled"/>.</summary>
    public static void Fire(ref int signalled, CancellationTokenSource closed)
    {
        if (Interlocked.Exchange(ref signalled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static cts =>
                {
                    try
                    {
                        cts.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The server already disposed the connection: nobody is listening.
                    }
                },
                closed,
                preferLocal: false);
        }
    }
}
