using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// The server's <c>--target</c>: a TCP <c>HOST:PORT</c> (a name is resolved at each dial, as Go's net.Dial does) or,
/// when it has no port, a unix socket path (as kcptun). Each dial is a socket with pipes over it (pooled buffers).
/// </summary>
internal sealed class TunnelTarget
{
    private readonly EndPoint _endPoint;

    public TunnelTarget(string target)
    {
        Description = target;
        _endPoint = !TunnelAddress.TrySplit(target, out var host, out var port) ? new UnixDomainSocketEndPoint(target)
            : IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port)
            : new DnsEndPoint(host.Length == 0 ? "localhost" : host, port);
    }

    public string Description { get; }

    public async Task<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = _endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : _endPoint is IPEndPoint ip ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
            if (socket.ProtocolType == ProtocolType.Tcp)
            {
                socket.NoDelay = true;
            }

            return new Connection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>One dialed target: pipes over the socket's stream; disposing closes the socket.</summary>
    internal sealed class Connection : IDuplexPipe, IAsyncDisposable
    {
        private readonly NetworkStream _stream;

        public Connection(Socket socket)
        {
            RemoteEndPoint = socket.RemoteEndPoint;
            _stream = new NetworkStream(socket, ownsSocket: true);
            Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
            Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        }

        public EndPoint? RemoteEndPoint { get; }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }

        public ValueTask DisposeAsync() => _stream.DisposeAsync();
    }
}
