using System.Buffers;
using System.Net;
using KcpKestrel.Transport.Kcp.Connections;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>What the per-loop sockets of one listener share: limits, the accept queue, the endpoint.</summary>
internal interface IKcpListenerHost
{
    bool IsAccepting { get; }

    bool HasAcceptRoom { get; }

    EndPoint LocalEndPoint { get; }

    MemoryPool<byte> MemoryPool { get; }

    /// <summary>Which loop owns each migratable session's sender (see <see cref="SessionMigration"/>).</summary>
    MigrationDirectory Migrations { get; }

    bool TryReserveSession();

    void ReleaseSession();

    bool TryEnqueueAccept(KcpConnection connection);
}
