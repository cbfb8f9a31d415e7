using System.Net;
using KcpKestrel.Transport.Kcp.Listener;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>A KCP listener bound straight from the factory (no Kestrel), for tests that need its counters.</summary>
public static class DirectListener
{
    internal static async Task<KcpConnectionListener> BindAsync(Action<KcpOptions> configure)
    {
        var factory = new KcpConnectionListenerFactory(Options.Create(new KcpTransportOptions()));
        var endPoint = new KcpEndPoint(IPAddress.Loopback, 0) { Configure = configure };
        return (KcpConnectionListener)await factory.BindAsync(endPoint);
    }
}
