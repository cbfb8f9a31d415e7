using System.Buffers;
using KcpKestrel.Middleware.Pipes;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Per-connection bandwidth limit: one token bucket per direction.</summary>
internal sealed class ThrottleObserver(long bytesPerSecond, long burst, TimeProvider timeProvider) : IPipeObserver
{
    private readonly ByteTokenBucket _inbound = new(bytesPerSecond, burst, timeProvider);
    private readonly ByteTokenBucket _outbound = new(bytesPerSecond, burst, timeProvider);

    public TimeSpan GetReadDelay() => _inbound.Delay();

    public void OnReceived(in ReadOnlySequence<byte> data) => _inbound.Take(data.Length);

    public void OnSent(int count, ReadOnlySpan<byte> data)
    {
    }

    public TimeSpan GetFlushDelay(long pendingBytes) => pendingBytes > 0 ? _outbound.Take(pendingBytes) : _outbound.Delay();
}
