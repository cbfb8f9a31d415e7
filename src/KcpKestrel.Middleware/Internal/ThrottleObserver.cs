using System.Buffers;
using KcpKestrel.Middleware.Pipes;
using KcpKestrel.Shared;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// Per-connection bandwidth limit: one token bucket per direction, each used by that direction's
/// single reader or writer (no lock). A read or flush of any size is charged in full and may put
/// the bucket into debt; the next one waits until the debt is repaid, so the long-run rate is exact
/// whatever the chunk sizes.
/// </summary>
internal sealed class ThrottleObserver : IPipeObserver
{
    private readonly TimeProvider _timeProvider;
    private readonly TokenBucket _inbound;
    private readonly TokenBucket _outbound;

    public ThrottleObserver(long bytesPerSecond, long burst, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _inbound = Create(bytesPerSecond, burst, timeProvider);
        _outbound = Create(bytesPerSecond, burst, timeProvider);
    }

    public TimeSpan GetReadDelay() => Delay(_inbound);

    public void OnReceived(in ReadOnlySequence<byte> data) => Take(_inbound, data.Length);

    public void OnSent(int count, ReadOnlySpan<byte> data)
    {
    }

    public TimeSpan GetFlushDelay(long pendingBytes) => pendingBytes > 0 ? Take(_outbound, pendingBytes) : Delay(_outbound);

    private static TokenBucket Create(long bytesPerSecond, long burst, TimeProvider timeProvider)
    {
        var bucket = new TokenBucket(bytesPerSecond, burst, timeProvider.TimestampFrequency);
        bucket.Start(timeProvider.GetTimestamp());
        return bucket;
    }

    /// <summary>Charges <paramref name="bytes"/>; returns how long until the bucket is out of debt.</summary>
    private TimeSpan Take(TokenBucket bucket, long bytes)
    {
        bucket.Refill(_timeProvider.GetTimestamp());
        bucket.Take(bytes);
        return Delay(bucket);
    }

    /// <summary>How long until the bucket is out of debt (zero when it is not in debt).</summary>
    private TimeSpan Delay(TokenBucket bucket)
    {
        bucket.Refill(_timeProvider.GetTimestamp());
        var seconds = bucket.SecondsUntil(0);
        return seconds == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds);
    }
}
