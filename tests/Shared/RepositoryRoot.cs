namespace KcpKestrel.Tests.Shared;

/// <summary>The checkout the tests run from: the first directory above the test binaries holding KcpKestrel.sln.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> s_path = new(Find);

    /// <summary>The repository root's full path.</summary>
    public static string Path => s_path.Value;

    /// <summary><paramref name="parts"/> joined below the repository root.</summary>
    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "KcpKestrel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (KcpKestrel.sln) above " + AppContext.BaseDirectory);
    }
}
