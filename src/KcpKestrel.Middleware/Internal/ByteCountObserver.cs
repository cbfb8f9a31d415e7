using System.Buffers;
using KcpKestrel.Middleware.Pipes;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Counts a connection's bytes each way (each counter has a single writer: the pipe's reader or writer).</summary>
internal sealed class ByteCountObserver : IPipeObserver
{
    private long _received;
    private long _sent;

    public long Received => Volatile.Read(ref _received);

    public long Sent => Volatile.Read(ref _sent);

    public TimeSpan GetReadDelay() => TimeSpan.Zero;

    public void OnReceived(in ReadOnlySequence<byte> data) => Volatile.Write(ref _received, _received + data.Length);

    public void OnSent(int count, ReadOnlySpan<byte> data) => Volatile.Write(ref _sent, _sent + count);

    public TimeSpan GetFlushDelay(long pendingBytes) => TimeSpan.Zero;
}
