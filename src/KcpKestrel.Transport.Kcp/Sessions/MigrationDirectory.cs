using System.Collections.Concurrent;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// Listener-wide: which loop's <see cref="SessionMigration"/> owns the session of each AEAD sender prefix. A
/// rebound peer's new address may hash to another loop's socket (SO_REUSEPORT); that loop finds the owner here
/// and hands the datagram over. Written by owners on their loop threads, read by every loop.
/// </summary>
internal sealed class MigrationDirectory
{
    private readonly ConcurrentDictionary<uint, SessionMigration> _owners = new();

    /// <summary>Sender prefixes with a live, migratable session.</summary>
    public int Count => _owners.Count;

    /// <summary>Claims <paramref name="sender"/> for <paramref name="owner"/>; false when another session holds it.</summary>
    public bool TryAdd(uint sender, SessionMigration owner) => _owners.TryAdd(sender, owner);

    /// <summary>Releases <paramref name="sender"/> if <paramref name="owner"/> holds it.</summary>
    public void Remove(uint sender, SessionMigration owner) => _owners.TryRemove(new KeyValuePair<uint, SessionMigration>(sender, owner));

    public bool TryGet(uint sender, out SessionMigration owner) => _owners.TryGetValue(sender, out owner!);
}
