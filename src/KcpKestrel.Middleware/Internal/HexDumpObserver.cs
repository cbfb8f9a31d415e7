using System.Buffers;
using KcpKestrel.Middleware.Pipes;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Logs the first bytes each way as hex at Trace level, then only counts down to nothing.</summary>
internal sealed class HexDumpObserver(ILogger logger, string connectionId, int limit) : IPipeObserver
{
    private long _received;
    private long _sent;

    public TimeSpan GetReadDelay() => TimeSpan.Zero;

    public void OnReceived(in ReadOnlySequence<byte> data)
    {
        if (_received >= limit || !logger.IsEnabled(LogLevel.Trace))
        {
            return;
        }

        var take = (int)Math.Min(limit - _received, data.Length);
        var bytes = data.Slice(0, take).ToArray();
        var hex = Convert.ToHexString(bytes);
        ConnectionLog.Bytes(logger, connectionId, "in", _received, _received + take, hex);
        _received += take;
    }

    public void OnSent(int count, ReadOnlySpan<byte> data)
    {
        if (_sent >= limit || !logger.IsEnabled(LogLevel.Trace))
        {
            return;
        }

        var take = (int)Math.Min(limit - _sent, data.Length);
        if (take == 0)
        {
            _sent += count;
            return;
        }

        var hex = Convert.ToHexString(data[..take]);
        ConnectionLog.Bytes(logger, connectionId, "out", _sent, _sent + take, hex);
        _sent += count;
    }

    public TimeSpan GetFlushDelay(long pendingBytes) => TimeSpan.Zero;
}
