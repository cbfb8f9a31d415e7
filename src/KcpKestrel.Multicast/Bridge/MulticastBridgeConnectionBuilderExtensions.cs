using KcpKestrel.Multicast.Bridge;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Connections;

/// <summary>Serves a Kestrel endpoint (KCP, TCP or any other listener) as a window on a multicast topic.</summary>
public static class MulticastBridgeConnectionBuilderExtensions
{
    /// <summary>
    /// Each connection to this endpoint gets <paramref name="topic"/>'s messages, each with a 4-byte
    /// big-endian length prefix, and every message it writes in that framing is published on
    /// <paramref name="topic"/>. Needs <c>AddMulticast</c> and <c>AddMulticastBridge</c>.
    /// </summary>
    public static TBuilder UseMulticastBridge<TBuilder>(this TBuilder builder, byte topic)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var bridge = builder.ApplicationServices.GetService<MulticastBridge>()
            ?? throw new InvalidOperationException("UseMulticastBridge needs services.AddMulticast(...) and services.AddMulticastBridge().");
        builder.Run(connection => bridge.HandleAsync(connection, topic));
        return builder;
    }
}
