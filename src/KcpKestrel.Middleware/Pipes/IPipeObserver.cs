using System.Buffers;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// What one middleware wants to see of a connection's transport pipes. Called by the single reader
/// and the single writer of the pipe; implementations must not block.
/// </summary>
internal interface IPipeObserver
{
    /// <summary>How long the next read must wait (a throttle's debt); <see cref="TimeSpan.Zero"/> to read at once.</summary>
    TimeSpan GetReadDelay();

    /// <summary>Bytes that arrived from the peer since the previous read (never re-reports unconsumed bytes).</summary>
    void OnReceived(in ReadOnlySequence<byte> data);

    /// <summary>The app wrote <paramref name="count"/> bytes for the peer; <paramref name="data"/> is as much of them as the writer saw (maybe fewer).</summary>
    void OnSent(int count, ReadOnlySpan<byte> data);

    /// <summary>Called before a flush of <paramref name="pendingBytes"/> bytes; returns how long the flush must wait.</summary>
    TimeSpan GetFlushDelay(long pendingBytes);
}
