using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp;

internal static partial class TunedTcpLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Tuned TCP listening on {EndPoint} with {Loops} accept loop(s)")]
    internal static partial void Listening(ILogger logger, EndPoint endPoint, int loops);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: the kernel refused {Option}={Value} ({Error}); continuing without it")]
    internal static partial void OptionRefused(ILogger logger, EndPoint endPoint, string option, int value, SocketError error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: {Option} is Linux-only and is not applied on this system")]
    internal static partial void OptionUnsupported(ILogger logger, EndPoint endPoint, string option);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: TCP Fast Open is requested but sysctl net.ipv4.tcp_fastopen={Value} lacks the server bit (2); set it to 3 to accept data in SYN")]
    internal static partial void FastOpenSysctlMissing(ILogger logger, EndPoint endPoint, string value);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: SO_REUSEPORT unavailable ({Error}); falling back to a single accept loop")]
    internal static partial void ReusePortUnavailable(ILogger logger, EndPoint endPoint, SocketError error);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}, loop {Loop}: accept failed with {Error}; backing off {DelayMs} ms")]
    internal static partial void AcceptBackoff(ILogger logger, EndPoint endPoint, int loop, SocketError error, int delayMs);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Tuned TCP on {EndPoint}, loop {Loop}: accept failed with {Error}")]
    internal static partial void AcceptFailed(ILogger logger, EndPoint endPoint, int loop, SocketError error);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Tuned TCP on {EndPoint}: connection refused, {Limit} connections already open")]
    internal static partial void RejectedOverLimit(ILogger logger, EndPoint endPoint, int limit);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "Tuned TCP on {EndPoint}, loop {Loop}: accept loop failed")]
    internal static partial void AcceptLoopFailed(ILogger logger, EndPoint endPoint, int loop, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}, loop {Loop}: setting up an accepted connection failed; closed it and accepting on")]
    internal static partial void ConnectionSetupFailed(ILogger logger, EndPoint endPoint, int loop, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: Kestrel's pinned-block memory pool is not reachable in this ASP.NET Core version; connections use a plain array pool, which costs more CPU per request")]
    internal static partial void KestrelMemoryPoolUnavailable(ILogger logger, EndPoint endPoint);
}
