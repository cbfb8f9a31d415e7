using System.Net;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.IoUring;

internal static partial class IoUringTcpLog
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Tuned TCP listening on {EndPoint} with the io_uring engine, {Architecture}, {Workers} worker(s), SQPOLL {SqPoll}, CPU affinity {Affinity}, CBPF steering {Steered}")]
    internal static partial void Listening(ILogger logger, EndPoint endPoint, IoUringArchitecture architecture, int workers, bool sqPoll, bool affinity, bool steered);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: the io_uring engine is unavailable ({Reason}); using the epoll engine")]
    internal static partial void FallingBack(ILogger logger, EndPoint endPoint, string reason);

    [LoggerMessage(EventId = 22, Level = LogLevel.Error, Message = "Tuned TCP on {EndPoint}, io_uring worker {Worker} failed")]
    internal static partial void WorkerFailed(ILogger logger, EndPoint endPoint, int worker, Exception exception);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}, io_uring worker {Worker}: accept failed with errno {Errno}; backing off {DelayMs} ms")]
    internal static partial void AcceptBackoff(ILogger logger, EndPoint endPoint, int worker, int errno, int delayMs);

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: the kernel's io_uring lacks MSG_RING (Linux 5.18), which the reactor architecture needs; using socket sharding")]
    internal static partial void ReactorUnavailable(ILogger logger, EndPoint endPoint);

    [LoggerMessage(EventId = 25, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}: the kernel refused the reuseport CBPF program (errno {Errno}); connections are spread by hash, not by CPU")]
    internal static partial void SteeringRefused(ILogger logger, EndPoint endPoint, int errno);

    [LoggerMessage(EventId = 26, Level = LogLevel.Warning, Message = "Tuned TCP on {EndPoint}, io_uring worker {Worker}: pinning to CPU {Cpu} failed (errno {Errno}); it runs unpinned")]
    internal static partial void PinFailed(ILogger logger, EndPoint endPoint, int worker, int cpu, int errno);
}
