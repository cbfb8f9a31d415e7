using System.Net;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.IoUring;

internal static partial class IoUringTcpLog
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Tuned TCP listening on {EndPoint} with the io_uring engine, {Workers} worker(s)")]
    internal static partial void Listening(ILogger logger, EndPoint endPoint, int workers);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: the io_uring engine is unavailable ({Reason}); using the epoll engine")]
    internal static partial void FallingBack(ILogger logger, EndPoint endPoint, string reason);

    [LoggerMessage(EventId = 22, Level = LogLevel.Error, Message = "Tuned TCP on {EndPoint}, io_uring worker {Worker} failed")]
    internal static partial void WorkerFailed(ILogger logger, EndPoint endPoint, int worker, Exception exception);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}, io_uring worker {Worker}: accept failed with errno {Errno}; backing off {DelayMs} ms")]
    internal static partial void AcceptBackoff(ILogger logger, EndPoint endPoint, int worker, int errno, int delayMs);
}
