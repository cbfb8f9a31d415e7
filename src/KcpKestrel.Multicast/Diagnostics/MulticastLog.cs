using System.Net;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Multicast.Diagnostics;

/// <summary>
/// The transport's log events. Each marks a change of state (a join, a publisher heard or gone, a
/// lost gap) or an error; none is written per message, and repeated errors are logged at
/// exponentially growing counts (<see cref="ShouldLogOccurrence"/>).
/// </summary>
internal static partial class MulticastLog
{
    [LoggerMessage(1, LogLevel.Information, "Joined multicast group {Group} on {Interface} as node {Node}.", EventName = "JoinedGroup")]
    public static partial void JoinedGroup(ILogger logger, IPEndPoint group, string @interface, ushort node);

    [LoggerMessage(2, LogLevel.Information, "Left multicast group {Group}.", EventName = "LeftGroup")]
    public static partial void LeftGroup(ILogger logger, IPEndPoint group);

    [LoggerMessage(3, LogLevel.Information, "Publisher node {Publisher} stream {Stream} heard on {Group}.", EventName = "PublisherAppeared")]
    public static partial void PublisherAppeared(ILogger logger, ushort publisher, uint stream, IPEndPoint group);

    [LoggerMessage(4, LogLevel.Warning, "Publisher node {Publisher} stream {Stream} on {Group} was silent past the publisher timeout.", EventName = "PublisherGone")]
    public static partial void PublisherGone(ILogger logger, ushort publisher, uint stream, IPEndPoint group);

    [LoggerMessage(5, LogLevel.Warning, "Sequences {First}-{Last} of publisher node {Publisher} stream {Stream} on {Group} left its history before they were repaired; their messages are lost ({Policy}).", EventName = "UnrecoverableGap")]
    public static partial void UnrecoverableGap(ILogger logger, ulong first, ulong last, ushort publisher, uint stream, IPEndPoint group, MulticastGapPolicy policy);

    [LoggerMessage(6, LogLevel.Error, "The multicast receiver's callback threw on {Group} ({Count} so far); the receive thread goes on.", EventName = "ReceiveCallbackFailed")]
    public static partial void ReceiveCallbackFailed(ILogger logger, Exception exception, IPEndPoint group, long count);

    [LoggerMessage(7, LogLevel.Warning, "Sending to multicast group {Group} failed ({Count} so far); NAKs repair the datagrams lost.", EventName = "SendFailed")]
    public static partial void SendFailed(ILogger logger, Exception exception, IPEndPoint group, long count);

    /// <summary>True for the 1st, 2nd, 4th, 8th... occurrence: an error repeated per datagram cannot flood the log.</summary>
    public static bool ShouldLogOccurrence(long count) => count > 0 && (count & (count - 1)) == 0;
}
