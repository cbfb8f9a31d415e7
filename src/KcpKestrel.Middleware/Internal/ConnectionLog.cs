using Microsoft.Extensions.Logging;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Every log line of the connection middlewares (source-generated; event ids are stable).</summary>
internal static partial class ConnectionLog
{
    [LoggerMessage(EventId = 1, EventName = "ConnectionOpened", Level = LogLevel.Information,
        Message = "Connection {ConnectionId} opened from {RemoteEndPoint} on {Transport} {EndPoint}")]
    public static partial void Opened(ILogger logger, string connectionId, string remoteEndPoint, string transport, string endPoint);

    [LoggerMessage(EventId = 2, EventName = "ConnectionClosed", Level = LogLevel.Information,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} closed after {DurationMs:F1} ms: {Reason}")]
    public static partial void Closed(ILogger logger, string connectionId, string remoteEndPoint, double durationMs, string reason);

    [LoggerMessage(EventId = 3, EventName = "ConnectionBytes", Level = LogLevel.Trace,
        Message = "Connection {ConnectionId} {Direction} bytes {Offset}..{End}: {Hex}")]
    public static partial void Bytes(ILogger logger, string connectionId, string direction, long offset, long end, string hex);

    [LoggerMessage(EventId = 4, EventName = "AddressRulesReloaded", Level = LogLevel.Information,
        Message = "Address filter '{Name}' reloaded: {AllowCount} allow and {DenyCount} deny entries")]
    public static partial void AddressRulesReloaded(ILogger logger, string name, int allowCount, int denyCount);

    // EventId 5 (InvalidAddressRule: a bad entry dropped, the rest applied) is retired: bad entries now reject the whole list.
    [LoggerMessage(EventId = 6, EventName = "AddressRulesReloadRejected", Level = LogLevel.Error,
        Message = "Address filter '{Name}' reload rejected, the previous rules stay in force: {Error}")]
    public static partial void AddressRulesReloadRejected(ILogger logger, string name, string error);
}
