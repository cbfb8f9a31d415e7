using System.Net.Http;

namespace KcpKestrel.Transport.Kcp.Client;

/// <summary>
/// HttpClient over KCP: a <see cref="SocketsHttpHandler"/> whose connections are KCP sessions dialed
/// through a <see cref="KcpConnectionFactory"/>. Every request goes to one KCP endpoint whatever its
/// host, so <c>http://any-name/</c> works; <c>https://</c> URIs run TLS over the session as over TCP
/// (the host name is still the TLS server name). HTTP/1.1, HTTP/2 (prior knowledge on <c>http://</c>,
/// ALPN on <c>https://</c>) and gRPC (as <c>GrpcChannelOptions.HttpHandler</c>) all work.
/// </summary>
public static class KcpHttpHandler
{
    /// <summary>Creates a handler that dials <paramref name="target"/> for every new connection.</summary>
    /// <param name="factory">Dials the sessions; it outlives the handler (dispose it yourself).</param>
    /// <param name="target">The KCP server every request goes to.</param>
    /// <param name="configure">Adjusts the handler (TLS options, pool lifetimes, HTTP/2 settings).</param>
    /// <returns>A handler for <see cref="HttpClient"/> or <c>GrpcChannel</c>.</returns>
    public static SocketsHttpHandler Create(KcpConnectionFactory factory, KcpEndPoint target, Action<SocketsHttpHandler>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(target);
        var handler = new SocketsHttpHandler
        {
            // A KCP dial has its own timeout and retries; HTTP/2 multiplexes, so one session per
            // authority is the default, and more open as streams run out.
            EnableMultipleHttp2Connections = true,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var connection = await factory.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
                return new ConnectionContextStream(connection);
            },
        };
        configure?.Invoke(handler);
        return handler;
    }
}
