using System.Net;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// The transport's log events (source-generated: no formatting unless the level is enabled).
/// Event ids 100-199 belong to sessions and listeners, 200-299 to configuration.
/// Per-session events are Debug: a busy server opens thousands of sessions a second.
/// </summary>
internal static partial class KcpLog
{
    /// <summary>Category of every transport log event.</summary>
    public const string Category = "KcpKestrel.Transport.Kcp";

    [LoggerMessage(100, LogLevel.Debug, "KCP session {Conv} opened: {RemoteEndPoint} -> {LocalEndPoint}.")]
    public static partial void SessionOpened(ILogger logger, uint conv, EndPoint? remoteEndPoint, EndPoint? localEndPoint);

    [LoggerMessage(101, LogLevel.Debug, "KCP session {Conv} from {RemoteEndPoint} closed ({Reason}) after {DurationMs} ms: srtt {Srtt} ms, rto {Rto} ms, retransmits fast {Fast} early {Early} timeout {Timeout}, FEC recovered {FecRecovered}, bytes in {BytesReceived} out {BytesSent}.")]
    public static partial void SessionClosed(
        ILogger logger,
        uint conv,
        EndPoint? remoteEndPoint,
        KcpCloseReason reason,
        long durationMs,
        int srtt,
        int rto,
        long fast,
        long early,
        long timeout,
        long fecRecovered,
        long bytesReceived,
        long bytesSent);

    [LoggerMessage(102, LogLevel.Debug, "KCP session {Conv} from {RemoteEndPoint}: dead link (a segment went unacknowledged through every retransmission): srtt {Srtt} ms, rto {Rto} ms, in flight {InFlight}.")]
    public static partial void DeadLink(ILogger logger, uint conv, EndPoint? remoteEndPoint, int srtt, int rto, int inFlight);

    /// <summary>For the session code: a new peer was refused (call only under <c>IsEnabled(Debug)</c>: the endpoint costs an allocation).</summary>
    [LoggerMessage(103, LogLevel.Debug, "KCP new session from {RemoteEndPoint} refused: {Reason}.")]
    public static partial void SessionRefused(ILogger logger, EndPoint remoteEndPoint, string reason);

    [LoggerMessage(120, LogLevel.Debug, "smux session on KCP session {Conv} from {RemoteEndPoint} ended ({Reason}) after {Streams} streams.")]
    public static partial void SmuxSessionClosed(ILogger logger, uint conv, EndPoint? remoteEndPoint, string? reason, long streams);

    /// <summary>Information, not Debug: a peer that breaks the protocol or goes silent is worth seeing (once per session).</summary>
    [LoggerMessage(121, LogLevel.Information, "smux session on KCP session {Conv} from {RemoteEndPoint} failed ({Reason}) after {Streams} streams; the KCP session was closed.")]
    public static partial void SmuxSessionFailed(ILogger logger, uint conv, EndPoint? remoteEndPoint, string? reason, long streams);

    [LoggerMessage(110, LogLevel.Information, "KCP listener {EndPoint} stopped accepting ({Sessions} sessions still open).")]
    public static partial void ListenerUnbound(ILogger logger, EndPoint endPoint, int sessions);

    [LoggerMessage(111, LogLevel.Information, "KCP listener {EndPoint} closed: {Accepted} sessions accepted, {DatagramsReceived} datagrams in, {DatagramsSent} out, {Dropped} dropped.")]
    public static partial void ListenerClosed(ILogger logger, EndPoint endPoint, long accepted, long datagramsReceived, long datagramsSent, long dropped);

    /// <summary>Once per listener or client factory: a receive buffer smaller than a window in flight turns bursts into kernel drops.</summary>
    [LoggerMessage(112, LogLevel.Warning, "KCP {Owner} {EndPoint}: UDP socket buffers are receive {Receive} / send {Send} bytes, below the {Asked} asked for (SocketBufferSize): the kernel caps them at net.core.rmem_max/wmem_max, and SO_RCVBUFFORCE/SO_SNDBUFFORCE need CAP_NET_ADMIN. Raise the sysctls, or expect drops (kcp.io.kernel_drops) under full windows.")]
    public static partial void SocketBuffersCapped(ILogger logger, string owner, EndPoint? endPoint, int receive, int send, int asked);

    [LoggerMessage(200, LogLevel.Information, "KCP endpoint '{Name}' from configuration: {Url}.")]
    public static partial void ConfiguredEndpoint(ILogger logger, string name, string url);
}
