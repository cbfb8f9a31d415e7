using System.Net;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Multicast.Diagnostics;

/// <summary>
/// Logs a receiver's loss signals, then passes everything on. Put in front of the app's receiver only
/// when the transport has a logger, so a transport without one pays no extra call per message.
/// </summary>
internal sealed class LoggingReceiver(IMulticastReceiver inner, ILogger logger, IPEndPoint group, MulticastGapPolicy policy) : IMulticastReceiver
{
    public void OnMessage(byte topic, ReadOnlySpan<byte> message) => inner.OnMessage(topic, message);

    public void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last)
    {
        MulticastLog.UnrecoverableGap(logger, first, last, publisher, stream, group, policy);
        inner.OnUnrecoverable(publisher, stream, first, last);
    }

    public void OnPublisherGone(ushort publisher, uint stream)
    {
        MulticastLog.PublisherGone(logger, publisher, stream, group);
        inner.OnPublisherGone(publisher, stream);
    }
}
